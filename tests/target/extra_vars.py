"""Write the extra variables the harness passes to playbooks/site.yml, as JSON (valid YAML).

    python tests/target/extra_vars.py --repo . --ca-bundle /etc/ssl/certs/ca-certificates.crt

- The CPU profile: the target is a chroot that sees the controller's /sys, so a GPU of the
  controller must not make the roles install a driver into it.
- The controller's CA bundle, through every role's ``*_ca_bundle`` variable: networks that
  re-sign TLS (this CI machine's does) need it; the roles never carry a CA of their own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

_CA_VAR = re.compile(r"^(?P<name>[a-z0-9_]*ca_bundle[a-z0-9_]*):", re.MULTILINE)


def ca_bundle_variables(repo: Path) -> list[str]:
    """Names of the roles' public CA-bundle variables, read from their defaults."""
    names: set[str] = set()
    for defaults in sorted(repo.glob("roles/*/defaults/main.yml")):
        names.update(m["name"] for m in _CA_VAR.finditer(defaults.read_text(encoding="utf-8")))
    return sorted(names)


def extra_vars(repo: Path, ca_bundle: str | None, overrides: dict[str, object]) -> dict:
    values: dict[str, object] = {"preflight_gpu_disable": True}
    if ca_bundle:
        for name in ca_bundle_variables(repo):
            values[name] = ca_bundle
    values.update(overrides)
    return values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2])
    ap.add_argument("--ca-bundle", help="PEM bundle on the controller to trust on the target")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=JSON", help="override")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    if args.ca_bundle and not Path(args.ca_bundle).is_file():
        print(f"extra_vars: CA bundle {args.ca_bundle} is not a file", file=sys.stderr)
        return 2
    json.dump(extra_vars(args.repo, args.ca_bundle, overrides), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
