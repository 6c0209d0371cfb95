#!/usr/bin/env bash
# A controller as a user makes one: a fresh venv with ansible-core alone (no setuptools of
# note, no wheel, no collections), then the collections requirements.yml names.
#
#   stock_controller.sh DIR    -> DIR/bin/ansible-playbook, DIR/collections
#
# ansible-core's version is the one of the repository's .venv, from the machine's pip index.
# Offline here (Ansible Galaxy is out of reach), ansible-galaxy installs each collection
# requirements.yml names from the copy the `ansible` package in .venv bundles (a directory
# source), so a collection the roles use but requirements.yml forgets is missing, as it
# would be for a user.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${1:?usage: stock_controller.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
dev_python=$repo/.venv/bin/python

core=$("$dev_python" -c 'from importlib.metadata import version; print(version("ansible-core"))')
python3 -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core==$core"

# requirements.yml's collections, each from the ansible package's bundled copy.
"$dev_python" - "$repo/requirements.yml" "$dir/requirements-offline.yml" <<'PY'
import sys
from pathlib import Path

import ansible_collections
import yaml

bundled = Path(ansible_collections.__path__[0])
wanted = yaml.safe_load(Path(sys.argv[1]).read_text())["collections"]
sources = []
for entry in wanted:
    namespace, name = entry["name"].split(".")
    sources.append({"name": str(bundled / namespace / name), "type": "dir"})
Path(sys.argv[2]).write_text(yaml.safe_dump({"collections": sources}))
PY
ANSIBLE_COLLECTIONS_PATH="$dir/collections" "$dir/bin/ansible-galaxy" collection install -r "$dir/requirements-offline.yml" \
  -p "$dir/collections" >/dev/null
echo "stock controller: ansible-core $core and $("$dir/bin/ansible-galaxy" collection list \
  -p "$dir/collections" 2>/dev/null | awk '/^[a-z_]+\.[a-z_]+ /{printf "%s %s ", $1, $2}')"
