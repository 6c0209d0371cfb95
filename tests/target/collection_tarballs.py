"""Make the tarballs a collection-only controller installs: dlstation.workstation, built
from this repository by `ansible-galaxy collection build`, and its dependencies, packed from
the copies the `ansible` package installed next to this Python (there is no Galaxy here).

    python tests/target/collection_tarballs.py OUT_DIR    # prints the tarballs, one a line
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def galaxy() -> dict:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())


def build(out: Path) -> Path:
    """`ansible-galaxy collection build` of this repository into OUT."""
    info = galaxy()
    subprocess.run(
        [Path(sys.executable).parent / "ansible-galaxy", "collection", "build"]
        + ["--force", "--output-path", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"


def installed(fqcn: str) -> Path:
    """Where the `ansible` package installed the collection FQCN."""
    import ansible_collections

    namespace, name = fqcn.split(".")
    for path in ansible_collections.__path__:
        found = Path(path) / namespace / name
        if (found / "MANIFEST.json").is_file():
            return found
    raise SystemExit(f"collection {fqcn} is not installed next to {sys.executable}")


def pack_installed(collection: Path, out: Path) -> Path:
    """An installed collection as the artifact it came from. The `ansible` package leaves out
    some files that FILES.json lists (CI settings, tests), and ansible-galaxy extracts by that
    list: list only the files that are there, and give MANIFEST.json the new list's checksum."""
    manifest = json.loads((collection / "MANIFEST.json").read_text())
    files = json.loads((collection / "FILES.json").read_text())
    files["files"] = [f for f in files["files"] if (collection / f["name"]).exists()]
    files_json = json.dumps(files).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    info = manifest["collection_info"]
    tarball = out / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in (
            ("MANIFEST.json", json.dumps(manifest).encode()),
            ("FILES.json", files_json),
        ):
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
        for f in files["files"]:  # folders and files, in the list's order
            tar.add(collection / f["name"], arcname=f["name"], recursive=False)
    return tarball


def dependencies(out: Path) -> list[Path]:
    return [pack_installed(installed(fqcn), out) for fqcn in galaxy().get("dependencies") or {}]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for tarball in [build(out), *dependencies(out)]:
        print(tarball)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
