#!/usr/bin/env bash
# The roles as an installed collection, on a target of the harness. A fresh controller (a new
# venv with ansible-core alone) installs dlstation.workstation and community.general from
# tarballs, offline (there is no Galaxy here), and an admin's own playbook, outside this
# repository, converges the roles that install into the venv with the collection's filters
# (dlstation.workstation.pip_unsatisfied, redact_url), up to frameworks, and blas, the role that
# needs the dependency (community.general.alternatives). The first run must succeed (on a fresh
# target it installs and configures; after prove.sh's converge it finds all done); a second
# changes nothing.
#
#   tests/target/collection.sh WORK      WORK: the work folder of target.sh up (or prove.sh)
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:?usage: collection.sh WORK, the work folder of prove.sh with the target up}
[ -d "$work/inventory" ] ||
  { echo "collection.sh: $work has no target inventory; run: tests/target/target.sh up $work" >&2; exit 2; }
# The harness's inputs for the roles (CA bundle, CPU profile); prove.sh writes them first.
[ -f "$work/extra-vars.yml" ] || python3 "$here/extra_vars.py" --repo "$repo" >"$work/extra-vars.yml"
python=$repo/.venv/bin/python
out=$work/collection
project=$out/project
rm -rf "$out"
mkdir -p "$project" "$work/logs"

fail() {
  printf 'COLLECTION CHECK FAILED: %s\n' "$*" >&2
  exit 1
}

echo "[collection] tarballs: dlstation.workstation (built here) and its dependencies"
"$python" "$here/collection_tarballs.py" "$out/tarballs" >"$out/tarballs.txt"
sed 's/^/  /' "$out/tarballs.txt"

core=$("$python" -c 'from importlib.metadata import version; print(version("ansible-core"))')
echo "[collection] a fresh controller: ansible-core $core alone in a new venv"
python3 -m venv "$out/controller"
"$out/controller/bin/pip" install -q "ansible-core==$core"
bin=$out/controller/bin

# The admin's project: none of this repository's settings or paths.
unset ANSIBLE_CONFIG ANSIBLE_CALLBACKS_ENABLED ANSIBLE_ROLES_PATH
export ANSIBLE_COLLECTIONS_PATH=$project/collections ANSIBLE_HOST_KEY_CHECKING=False
cd "$project"
{
  echo "collections:"
  while read -r tarball; do printf '  - name: %s\n    type: file\n' "$tarball"; done <"$out/tarballs.txt"
} >requirements.yml
"$bin/ansible-galaxy" collection install --offline -r requirements.yml -p collections

# The collection's roles without its site.yml: no bundled apt and pip runs; each role checks
# its own preconditions and installs what it needs. The preflight role first, as in site.yml:
# it names the platform (the pins that differ per platform) and detects the GPUs.
cat >site.yml <<'PLAY'
- name: Our lab's workstations
  hosts: all
  become: true
  roles:
    - dlstation.workstation.preflight
    - dlstation.workstation.python_env
    - dlstation.workstation.blas
    - dlstation.workstation.hdf5
    - dlstation.workstation.graphviz
    - dlstation.workstation.opencv
    - dlstation.workstation.frameworks
PLAY

converge() {
  local log=$1
  shift
  "$bin/ansible-playbook" -i "$work/inventory" site.yml -e "@$work/extra-vars.yml" "$@" 2>&1 |
    tee "$work/logs/$log"
  return "${PIPESTATUS[0]}"
}

echo "[collection] converge preflight, python_env, blas, hdf5, graphviz, opencv, frameworks from the collection"
converge collection-1.log || fail "converge from the collection"
python3 "$here/recap.py" "$work/logs/collection-1.log" || fail "converge from the collection"

echo "[collection] again: must change nothing"
converge collection-2.log || fail "second converge from the collection"
python3 "$here/recap.py" "$work/logs/collection-2.log" --changed 0 || fail "not idempotent"
echo "[collection] passed"
