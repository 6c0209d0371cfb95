"""Add the real Modaliases field to the trimmed `apt-cache show` records of a fixture.

Usage: add_modaliases.py FIXTURE PACKAGES...

PACKAGES are decompressed `restricted/binary-amd64/Packages` files of the release's suites
(e.g. noble-updates, then noble), fetched from the Ubuntu archive whose URL comes from the
environment. A record takes the Modaliases of the first file holding the same Package and
Version; the line goes where `apt-cache show` prints it, after the description.
"""

import re
import sys


def fields(record):
    return dict(re.findall(r"^([A-Za-z0-9-]+):[ \t]*(.*)$", record, re.M))


def main(fixture, *packages_files):
    modaliases = {}
    for path in packages_files:
        with open(path) as handle:
            for record in handle.read().split("\n\n"):
                found = fields(record)
                key = (found.get("Package"), found.get("Version"))
                if "Modaliases" in found:
                    modaliases.setdefault(key, found["Modaliases"])
    with open(fixture) as handle:
        records = [r for r in handle.read().strip().split("\n\n") if r.strip()]
    out = []
    for record in records:
        found = fields(record)
        lines = [line for line in record.splitlines() if not line.startswith("Modaliases:")]
        value = modaliases.get((found.get("Package"), found.get("Version")))
        if value:
            lines.append(f"Modaliases: {value}")
        out.append("\n".join(lines))
    with open(fixture, "w") as handle:
        handle.write("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
