#!/usr/bin/env bash
# Static checks that need no target: every playbook parses (syntax, roles, variables files).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
bin=ansible-playbook
[ -x .venv/bin/ansible-playbook ] && bin=.venv/bin/ansible-playbook
shopt -s nullglob
playbooks=(playbooks/*.yml)
((${#playbooks[@]})) || { echo "no playbooks under playbooks/" >&2; exit 1; }
for playbook in "${playbooks[@]}"; do
  echo "syntax-check: $playbook"
  "$bin" -i inventory/localhost.yml --syntax-check "$playbook" >/dev/null
  "$bin" -i inventory/fleet.example.yml --syntax-check "$playbook" >/dev/null
done

# Vagrantfile (tests/target owner): `vagrant validate` parses it offline, without a box or a
# provider; it does not notice a missing playbook, so check the paths it names too.
if command -v vagrant >/dev/null; then
  echo "vagrant validate: Vagrantfile"
  VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate --ignore-provider >/dev/null
else
  echo "vagrant is not installed (tests/apt-packages.txt lists it)" >&2
  exit 1
fi
for path in $(sed -nE 's/^[^#]*ansible\.(playbook|config_file) *= *"([^"]+)".*/\2/p' Vagrantfile); do
  [ -f "$path" ] || { echo "Vagrantfile names $path, which does not exist" >&2; exit 1; }
done
