# Run by the venv's python (`python -c`): what the venv holds, as `pip list --format=json`
# would say (name, version), in a tenth of pip's start-up time; and the package records
# of installs that pip or uv did not finish. Both write a record's INSTALLER after all the
# package's files (uv: install_wheel in astral-sh/uv crates/uv-install-wheel/src/install.rs
# links the files, then writes INSTALLER, then RECORD), so a record without one marks an
# install killed midway (Ctrl-C, OOM), which either installer would otherwise call installed.
import glob
import json
import os
import sysconfig
from importlib.metadata import PathDistribution
from pathlib import Path

installed, unfinished = [], []
roots = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
for record in sorted(p for root in roots for p in glob.glob(os.path.join(root, "*.dist-info"))):
    if not os.path.exists(os.path.join(record, "INSTALLER")):
        unfinished.append(record)
        continue
    meta = PathDistribution(Path(record)).metadata
    if meta and meta["Name"]:
        installed.append({"name": meta["Name"], "version": meta["Version"]})
print(json.dumps({"installed": installed, "unfinished": unfinished}))
