"""Say whether pinned pip packages have a release file a host can install, before anything changes.

Runs on the controller (the host may have neither pip nor a trusted CA yet). It asks pip
itself, in a dry run for the host's Python version, CPU and glibc, with the host's pip
indexes: pip reads the index's metadata (Requires-Python, wheel tags) as the real install
will, and downloads no wheel.

    python pins_installable.py --python 3.10 --machine x86_64 --glibc 2.35 keras==3.15.1

Prints one JSON object: {"ok": true, "cuda": {name: major}} or {"ok": false, "requirement",
"requires_python", "reason"}; exit 0 either way (the play words the failure). Exit 2 when pip
cannot run. "cuda" names the CUDA major each pinned wheel is built for, read from its
Requires-Dist in pip's report (the driver must run it). --stamp FILE: write that JSON to FILE
when every pin installs (the play's cache of a passed check).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# pip's own words: "Ignored the following versions that require a different python
# version: 3.15.0 Requires-Python >=3.11; 3.15.1 Requires-Python >=3.11"
_IGNORED = re.compile(r"(\S+) Requires-Python (\S+?)(?:;|$)")
_NOT_FOUND = re.compile(r"No matching distribution found for (\S+)")
_UNREACHABLE = ("Could not fetch URL", "NewConnectionError", "ProxyError", "SSLError")
# A wheel's CUDA build shows in what it requires: NVIDIA's library wheels carry the CUDA major in
# their names (nvidia-cudnn-cu13, nvidia-cuda-runtime-cu12), or it pins NVIDIA's cuda-toolkit
# (PyPI's torch 2.15.0 requires "cuda-toolkit[cublas,cudart,...]==13.2.2" and
# "nvidia-cudnn-cu13==9.26.0.51", read with `pip install --dry-run --report` on 2026-11-30).
_CUDA_NAME = re.compile(r"^nvidia-[a-z0-9-]+-cu(\d+)\b", re.IGNORECASE)
_EXTRA = re.compile(r"\bextra\s*==")
_CUDA_TOOLKIT = re.compile(r"^cuda-toolkit\b[^;=<>~!]*==\s*(\d+)\.", re.IGNORECASE)


def platform_tags(machine: str, glibc: str) -> list[str]:
    """The manylinux tags a host with this glibc accepts (PEP 600, and the legacy aliases)."""
    major, minor = (int(x) for x in glibc.split(".")[:2])
    tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags += [f"{name}_{machine}" for m, name in legacy.items() if minor >= m]
    return tags + [f"linux_{machine}"]


def cuda_majors(report: dict) -> dict[str, str]:
    """{package: CUDA major} of the wheels in pip's install report that require a CUDA build.

    Requirements behind an extra (tensorflow's "and-cuda") are not what a plain pin installs.
    """
    found = {}
    for item in report.get("install", []):
        metadata = item.get("metadata") or {}
        majors = set()
        for requirement in (r.strip() for r in metadata.get("requires_dist") or []):
            if _EXTRA.search(requirement):
                continue
            match = _CUDA_NAME.match(requirement) or _CUDA_TOOLKIT.match(requirement)
            if match:
                majors.add(int(match.group(1)))
        if majors and metadata.get("name"):
            found[re.sub(r"[-_.]+", "-", metadata["name"]).lower()] = str(max(majors))
    return found


def pip_command(args: argparse.Namespace, target: str) -> list[str]:
    nodot = args.python.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--isolated", "--no-deps"]
    cmd += ["--report", os.path.join(target, "report.json")]
    cmd += ["--ignore-installed", "--target", target, "--only-binary=:all:"]
    cmd += ["--python-version", args.python, "--implementation", "cp"]
    cmd += ["--abi", f"cp{nodot}", "--abi", "abi3", "--abi", "none"]
    for tag in platform_tags(args.machine, args.glibc):
        cmd += ["--platform", tag]
    if args.index_url:
        cmd += ["--index-url", args.index_url]
    for url in args.extra_index_url:
        cmd += ["--extra-index-url", url]
    if args.cert:
        cmd += ["--cert", args.cert]
    return cmd + ["--disable-pip-version-check", "--no-input", *args.requirements]


def verdict(output: str, requirements: list[str]) -> dict[str, object]:
    """Read pip's failure: which pin, its Requires-Python, and why."""
    if any(word in output for word in _UNREACHABLE):
        return {"ok": False, "requirement": None, "requires_python": None, "reason": "unreachable"}
    found = _NOT_FOUND.search(output)
    requirement = found.group(1) if found else None
    pinned = (requirement or "").partition("==")[2]
    requires_python = None
    for line in output.splitlines():
        if "require a different python version" in line:
            for version, spec in _IGNORED.findall(line.split(":", 1)[1]):
                if version == pinned:
                    requires_python = spec
    reason = "requires_python" if requires_python else "no_file"
    if requirement is None:
        reason = "pip_failed"
    return {
        "ok": False,
        "requirement": requirement or " ".join(requirements),
        "requires_python": requires_python,
        "reason": reason,
        "pip": output.strip().splitlines()[-1:] if reason == "pip_failed" else [],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="the venv's Python, X.Y")
    ap.add_argument("--machine", required=True, help="x86_64 or aarch64")
    ap.add_argument("--glibc", required=True, help="the host's glibc, X.Y")
    ap.add_argument("--index-url", default="")
    ap.add_argument("--extra-index-url", action="append", default=[])
    ap.add_argument("--cert", default="", help="CA bundle on the controller")
    ap.add_argument("--stamp", default="", help="a file to create when every pin installs")
    ap.add_argument("requirements", nargs="+", help="name==version")
    args = ap.parse_args(argv)
    # None of the controller's own pip configuration: the host uses its own indexes.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    with tempfile.TemporaryDirectory() as target:
        try:
            proc = subprocess.run(
                pip_command(args, target), env=env, capture_output=True, text=True, timeout=300
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"pins_installable: pip did not run: {exc}", file=sys.stderr)
            return 2
        try:
            with open(os.path.join(target, "report.json"), encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError):
            report = {}
    if proc.returncode == 0:
        answer = json.dumps({"ok": True, "cuda": cuda_majors(report)})
        if args.stamp:
            os.makedirs(os.path.dirname(args.stamp), exist_ok=True)
            with open(args.stamp, "w", encoding="utf-8") as f:
                f.write(answer + "\n")
        print(answer)
        return 0
    if "No module named pip" in proc.stderr:
        print(
            f"pins_installable: the controller's Python {sys.executable} has no pip",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(verdict(proc.stdout + proc.stderr, args.requirements)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
