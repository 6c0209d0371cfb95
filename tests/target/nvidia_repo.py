"""A stand-in for NVIDIA's CUDA apt repository, built and served on loopback for the tests.

    python3 tests/target/nvidia_repo.py build DIR   # the repository, its key, its TLS CA
    python3 tests/target/nvidia_repo.py serve DIR   # serve it over https on 127.0.0.1

NVIDIA's repository cannot be reached from CI, so this is the one fake boundary of the GPU
proof: everything past it (gpg, apt over https, dpkg, the roles) is real. It has the shape of
NVIDIA's repository, each fact cited where it is made below:

- ``<base>/<distro>/<arch>/`` (``debian12/x86_64``), a flat repository (``deb <url> /``) with
  ``Packages``, ``Packages.gz``, ``Release`` with ``Origin: NVIDIA`` and ``Label: NVIDIA CUDA``
  (NVIDIA's Release has no Suite or Components), signed as ``InRelease`` and ``Release.gpg``;
- the signing key as ``<last 8 hex digits of its fingerprint>.pub`` (NVIDIA's is ``3bf863cc.pub``
  for ``...A4B469963BF863CC``), made for the test in a temporary GNUPGHOME;
- small packages with NVIDIA's names, versions and dependency shape (``PACKAGES``), each
  installing its files where the real one does: ``/usr/local/cuda-12.5/bin/nvcc`` prints its
  version as nvcc does; the driver packages are there so that the roles' apt pin is tested.

``build`` writes ``DIR/standin.json``: the key's fingerprint and file name, the CA certificate
the server's TLS certificate chains to (the target must trust it: the role fetches the key over
https), and the base path. ``serve`` prints the base URL on its first line of output and writes
every request path to ``DIR/requests.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from email.utils import formatdate
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parents[2]
#: NVIDIA's repositories' base URL, the cuda_toolkit role's default (the one place it is
#: written): the keyring package's source names it, and the stand-in serves its path.
NVIDIA_BASE_URL = yaml.safe_load((REPO / "roles/cuda_toolkit/defaults/main.yml").read_text())[
    "cuda_toolkit_repo_base_url"
].rstrip("/")
BASE_PATH = urlsplit(NVIDIA_BASE_URL).path
DISTRO = "debian12"
ARCH = "x86_64"  # NVIDIA's directory name; dpkg calls it amd64 (aarch64 is "sbsa").
DEB_ARCH = "amd64"
LIB_DIR = "/usr/lib/x86_64-linux-gnu"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    depends: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (path, text)
    links: tuple[tuple[str, str], ...] = ()  # (path, target)
    architecture: str = DEB_ARCH


def _nvcc(release: str, build: str) -> str:
    # nvcc --version's format, as printed by a real nvcc 11.5 and 12.x:
    #   Cuda compilation tools, release 11.5, V11.5.119 / Build cuda_11.5.r11.5/compiler...
    return (
        "#!/bin/sh\n"
        "# dlstation's stand-in for NVIDIA's nvcc (tests/target/nvidia_repo.py)\n"
        'case "$1" in --version|-V) ;; *) echo "nvcc stand-in: only --version" >&2; exit 1;; esac\n'
        "echo 'nvcc: NVIDIA (R) Cuda compiler driver'\n"
        "echo 'Copyright (c) 2005-2025 NVIDIA Corporation'\n"
        f"echo 'Cuda compilation tools, release {release}, V{build}'\n"
        f"echo 'Build cuda_{release}.r{release}/compiler.0_0 (dlstation stand-in)'\n"
    )


def _toolkit(release: str, meta_version: str, nvcc_version: str) -> list[Package]:
    # cuda-toolkit-X-Y depends on cuda-compiler-X-Y, which brings cuda-nvcc-X-Y: the shape of
    # `apt install cuda-toolkit-12-2` (cuda-compiler-12-2, cuda-nvcc-12-2, ... in its list).
    # Versions: cuda-toolkit-12-5 12.5.1-1, cuda-compiler-12-5 12.5.1-1, cuda-nvcc-12-5 12.5.82-1
    # (a script fetching them from NVIDIA's ubuntu2204 repository); cuda 13.0.2-1 and
    # cuda-nvcc-13-0 13.0.88-1 (a Dockerfile and a Yocto recipe pinning them). The rest of the
    # real toolkit (libraries, tools, the *-config-common packages) is left out.
    dashed = release.replace(".", "-")
    home = f"/usr/local/cuda-{release}"
    compiler_dep = f"cuda-compiler-{dashed} (>= {meta_version})"
    return [
        Package(f"cuda-toolkit-{dashed}", meta_version, compiler_dep),
        Package(f"cuda-compiler-{dashed}", meta_version, f"cuda-nvcc-{dashed} (>= {nvcc_version})"),
        Package(
            f"cuda-nvcc-{dashed}",
            f"{nvcc_version}-1",
            files=((f"{home}/bin/nvcc", _nvcc(release, nvcc_version)),),
        ),
    ]


def _cudnn(cuda_major: str, version: str, headers_package: bool) -> list[Package]:
    # libcudnn9-cuda-12 9.2.1.18-1 (the same script as above); libcudnn9-cuda-13 9.15.0.58-1
    # with libcudnn9-dev-cuda-13 and libcudnn9-headers-cuda-13 of the same version (a
    # Dockerfile installing all three). The library lands in /usr/lib/x86_64-linux-gnu and
    # the version header in /usr/include/x86_64-linux-gnu/cudnn_version_v9.h (where setup
    # scripts read it after `apt install cudnn-cuda-12`).
    major, minor, patch = version.split(".")[:3]
    upstream = f"{major}.{minor}.{patch}"
    deb_version = f"{version}-1"
    runtime = f"libcudnn9-cuda-{cuda_major}"
    header = (
        f"/usr/include/x86_64-linux-gnu/cudnn_version_v{major}.h",
        f"/* dlstation stand-in */\n#define CUDNN_MAJOR {major}\n#define CUDNN_MINOR {minor}\n"
        f"#define CUDNN_PATCHLEVEL {patch}\n",
    )
    packages = [
        Package(
            runtime,
            deb_version,
            files=((f"{LIB_DIR}/libcudnn.so.{upstream}", "dlstation stand-in, not a library\n"),),
            links=((f"{LIB_DIR}/libcudnn.so.{major}", f"libcudnn.so.{upstream}"),),
        )
    ]
    dev_depends = f"{runtime} (= {deb_version})"
    if headers_package:
        headers = f"libcudnn9-headers-cuda-{cuda_major}"
        packages.append(Package(headers, deb_version, files=(header,)))
        packages.append(
            Package(
                f"libcudnn9-dev-cuda-{cuda_major}",
                deb_version,
                f"{dev_depends}, {headers} (= {deb_version})",
            )
        )
    else:
        packages.append(
            Package(f"libcudnn9-dev-cuda-{cuda_major}", deb_version, dev_depends, files=(header,))
        )
    return packages


def driver_packages() -> list[Package]:
    # NVIDIA's debian12 repository carries the driver under Debian's own package names, at
    # newer versions than Debian's non-free (535): moving back to Debian's needs
    # `apt install --allow-downgrades libcuda1=... nvidia-driver=... nvidia-kernel-dkms=...`
    # (a gist doing that after installing cuda-keyring), and `cuda-drivers` pulls it in.
    # 575.57.08 is a branch newer than Debian's; the contents do not matter, only that apt
    # must never pick them (the cuda_toolkit role's pin).
    version = v = "575.57.08-1"
    return [
        Package("nvidia-driver", version, f"libcuda1 (= {v}), nvidia-kernel-dkms (= {v})"),
        Package("nvidia-kernel-dkms", version),
        Package("libcuda1", version, files=((f"{LIB_DIR}/libcuda.so.575.57.08", "stand-in\n"),)),
        Package("libnvidia-ml1", version),
        Package("cuda-drivers-575", version, f"nvidia-driver (>= {version})"),
        Package("cuda-drivers", version, "cuda-drivers-575"),
    ]


def _keyring(repo_url: str) -> Package:
    # cuda-keyring 1.1-1 (all) installs the key as /usr/share/keyrings/cuda-archive-keyring.gpg
    # and the source /etc/apt/sources.list.d/cuda-<distro>-<arch>.list signed by it (NVIDIA's
    # install guide; purging it is what removes cuda-debian11-x86_64.list, NVIDIA/nvidia-docker
    # issue 1791). The key file is filled in by build().
    return Package(
        "cuda-keyring",
        "1.1-1",
        files=(
            (
                f"/etc/apt/sources.list.d/cuda-{DISTRO}-{ARCH}.list",
                f"deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] {repo_url} /\n",
            ),
        ),
        architecture="all",
    )


def packages() -> list[Package]:
    return [
        *_toolkit("12.5", "12.5.1-1", "12.5.82"),
        *_toolkit("13.0", "13.0.2-1", "13.0.88"),
        *_cudnn("12", "9.2.1.18", headers_package=False),
        *_cudnn("13", "9.15.0.58", headers_package=True),
        *driver_packages(),
    ]


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def _build_deb(pkg: Package, out: Path, extra_files: tuple[tuple[str, bytes], ...] = ()) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        control = [
            f"Package: {pkg.name}",
            f"Version: {pkg.version}",
            f"Architecture: {pkg.architecture}",
            "Maintainer: dlstation tests <tests@dlstation.invalid>",
            "Section: devel",
            "Priority: optional",
        ]
        if pkg.depends:
            control.append(f"Depends: {pkg.depends}")
        control.append(f"Description: {pkg.name} (dlstation's stand-in for NVIDIA's package)")
        (root / "DEBIAN" / "control").write_text("\n".join(control) + "\n")
        for path, data in [(p, t.encode()) for p, t in pkg.files] + list(extra_files):
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            dest.chmod(0o755 if "/bin/" in path else 0o644)
        for path, target in pkg.links:
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(target)
        deb = out / f"{pkg.name}_{pkg.version}_{pkg.architecture}.deb"
        _run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb))
    return deb


def _packages_index(debs: list[Path], repo: Path) -> str:
    stanzas = []
    for deb in sorted(debs):
        control = _run("dpkg-deb", "-f", str(deb)).stdout.strip()
        data = deb.read_bytes()
        stanzas.append(
            f"{control}\nFilename: ./{deb.relative_to(repo)}\nSize: {len(data)}\n"
            f"MD5sum: {hashlib.md5(data).hexdigest()}\n"  # noqa: S324 - apt's index format
            f"SHA1: {hashlib.sha1(data).hexdigest()}\n"  # noqa: S324
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    return "\n".join(stanzas)


def _release(repo: Path) -> str:
    # The fields of NVIDIA's flat-repository Release file: Origin: NVIDIA, Label: NVIDIA CUDA,
    # Architecture (x86_64, NVIDIA's name), Date, and the checksums of Packages and Packages.gz;
    # no Suite, no Components (public scripts that rebuild such a Release for a mirror write
    # exactly these; a note reading ubuntu2604's Release quotes Origin and Label).
    lines = ["Origin: NVIDIA", "Label: NVIDIA CUDA", f"Architecture: {ARCH}"]
    lines.append(f"Date: {formatdate(usegmt=True)}")
    for field, algo in (("MD5Sum", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
        lines.append(f"{field}:")
        for name in ("Packages", "Packages.gz"):
            data = (repo / name).read_bytes()
            lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data)} {name}")
    return "\n".join(lines) + "\n"


def _make_key(gnupghome: Path) -> tuple[str, bytes]:
    """A signing key made for this repository; returns its fingerprint and armored export."""
    env = dict(os.environ, GNUPGHOME=str(gnupghome))
    gpg = ("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "")
    uid = "dlstation stand-in for NVIDIA's CUDA repository <tests@dlstation.invalid>"
    _run(*gpg, "--quick-gen-key", uid, "ed25519", "sign", "2d", env=env)
    colons = _run("gpg", "--batch", "--with-colons", "--list-keys", env=env).stdout
    fingerprint = next(ln.split(":")[9] for ln in colons.splitlines() if ln.startswith("fpr:"))
    armored = _run("gpg", "--batch", "--armor", "--export", fingerprint, env=env).stdout
    return fingerprint, armored.encode()


def _sign(repo: Path, gnupghome: Path) -> None:
    env = dict(os.environ, GNUPGHOME=str(gnupghome))
    gpg = ("gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "")
    _run(*gpg, "--digest-algo", "SHA256", "--clearsign", "-o", str(repo / "InRelease"),
         str(repo / "Release"), env=env)  # fmt: skip
    _run(*gpg, "--digest-algo", "SHA256", "--armor", "--detach-sign", "-o",
         str(repo / "Release.gpg"), str(repo / "Release"), env=env)  # fmt: skip


def _make_tls(out: Path) -> None:
    """A CA made for the test and a certificate for 127.0.0.1 that chains to it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca, ca_key, cert, key, csr = (
        str(out / n) for n in ("ca.pem", "ca.key", "server.pem", "server.key", "server.csr")
    )
    subject = "/CN=dlstation stand-in CA"
    ca_ext = ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]
    _run("openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "7",
         "-subj", subject, "-addext", ca_ext[0], "-addext", ca_ext[1])  # fmt: skip
    _run("openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    ext = out / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "7", "-extfile", str(ext), "-out", cert)  # fmt: skip


@dataclass(frozen=True)
class StandIn:
    root: Path
    fingerprint: str
    key_name: str

    @property
    def repo(self) -> Path:
        return self.root / "www" / BASE_PATH.strip("/") / DISTRO / ARCH

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"

    @classmethod
    def load(cls, root: Path) -> StandIn:
        data = json.loads((root / "standin.json").read_text())
        return cls(root, data["fingerprint"], data["key_name"])


def build(root: Path) -> StandIn:
    """Make the repository, its signing key and its TLS certificates under root."""
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="dlstation-gnupg-") as gnupghome:
        home = Path(gnupghome)
        home.chmod(0o700)
        fingerprint, armored = _make_key(home)
        standin = StandIn(root, fingerprint, f"{fingerprint[-8:].lower()}.pub")
        repo = standin.repo
        if repo.exists():
            shutil.rmtree(repo)
        repo.mkdir(parents=True)
        (repo / standin.key_name).write_bytes(armored)
        # The keyring package's source names NVIDIA's real URL, as the real package does.
        real_url = f"{NVIDIA_BASE_URL}/{DISTRO}/{ARCH}/"
        keyring_key = (("/usr/share/keyrings/cuda-archive-keyring.gpg", _dearmor(armored, home)),)
        debs = [_build_deb(_keyring(real_url), repo, keyring_key)]
        debs += [_build_deb(pkg, repo) for pkg in packages()]
        index = _packages_index(debs, repo)
        (repo / "Packages").write_text(index)
        (repo / "Packages.gz").write_bytes(gzip.compress(index.encode(), mtime=0))
        (repo / "Release").write_text(_release(repo))
        _sign(repo, home)
    _make_tls(root)
    (root / "standin.json").write_text(
        json.dumps(
            {
                "fingerprint": standin.fingerprint,
                "key_name": standin.key_name,
                "ca": str(standin.ca),
                "base_path": BASE_PATH,
                "repo": f"{DISTRO}/{ARCH}",
            },
            indent=2,
        )
        + "\n"
    )
    return standin


def _dearmor(armored: bytes, home: Path) -> bytes:
    env = dict(os.environ, GNUPGHOME=str(home))
    proc = subprocess.run(
        ["gpg", "--batch", "--dearmor"], input=armored, capture_output=True, check=True, env=env
    )
    return proc.stdout


class _Handler(http.server.SimpleHTTPRequestHandler):
    log_path: Path

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        with self.log_path.open("a") as log:
            log.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")


def _server(root: Path) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"log_path": root / "requests.log"})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(root / "www"))
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(root / "server.pem", root / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def base_url(server: http.server.HTTPServer) -> str:
    return f"https://127.0.0.1:{server.server_address[1]}{BASE_PATH}"


@contextlib.contextmanager
def serving(root: Path):
    """Serve root's repository on loopback for the duration of the block; yield the base URL."""
    server = _server(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="make the repository").add_argument("dir", type=Path)
    sub.add_parser("serve", help="serve it over https on loopback").add_argument("dir", type=Path)
    args = ap.parse_args(argv)
    if args.command == "build":
        standin = build(args.dir)
        print(json.dumps({"fingerprint": standin.fingerprint, "key_name": standin.key_name}))
        return 0
    if not (args.dir / "standin.json").is_file():
        print(f"nvidia_repo: no repository in {args.dir}; run: build {args.dir}", file=sys.stderr)
        return 2
    server = _server(args.dir.resolve())
    print(base_url(server), flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
