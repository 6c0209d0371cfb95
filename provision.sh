#!/usr/bin/env bash
# Provision THIS machine as a deep-learning workstation, then show dlcheck's verdict.
# Run it as root, or as a user with sudo (it runs itself again through sudo):
#
#   ./provision.sh                       # everything, as configured in inventory/
#   ./provision.sh --check --diff        # say what would change, change nothing
#   ./provision.sh -e system_full_upgrade=false --tags frameworks
#
# Extra arguments go to ansible-playbook unchanged. Ansible itself is installed into
# ./.controller (a venv, from the index pip is configured for); nothing is pip-installed
# into the system Python.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(pwd)

case "${1:-}" in
  -h | --help)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$repo/provision.sh"
    echo "The options are ansible-playbook's: .controller/bin/ansible-playbook --help (after a first run)."
    exit 0
    ;;
esac
# shellcheck source=lib/as-root.sh
. "$repo/lib/as-root.sh"
as_root "$repo/provision.sh" "$@"

ansible_version=12.3.0
controller="$repo/.controller"
python=/usr/bin/python3

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }

[ -r /etc/os-release ] || die "no /etc/os-release: this is not a Debian or Ubuntu system"
# shellcheck disable=SC1091
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "* | *" ubuntu "*) ;;
  *) die "unsupported system ${PRETTY_NAME:-unknown}: dlstation provisions Ubuntu 22.04/24.04/26.04 and Debian 12/13" ;;
esac

# The controller venv needs the distro's python3 with venv support.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  say "installing python3-venv (for the controller venv)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
fi

if ! "$controller/bin/python" -c "import sys; from importlib.metadata import version; sys.exit(version('ansible') != '$ansible_version')" 2>/dev/null; then
  say "installing Ansible $ansible_version into $controller"
  "$python" -m venv "$controller"
  "$controller/bin/python" -m pip install --quiet --upgrade pip
  # setuptools and wheel build dlcheck's wheel on this controller (roles/dlcheck).
  "$controller/bin/python" -m pip install --quiet "ansible==$ansible_version" "setuptools>=77" wheel
fi

say "running playbooks/site.yml on this machine"
export ANSIBLE_CONFIG="$repo/ansible.cfg"
become=()
# Root needs no password to switch user; without sudo (a minimal server), su does it.
command -v sudo >/dev/null || become=(-e ansible_become_method=su)
"$controller/bin/ansible-playbook" -i inventory/localhost.yml playbooks/site.yml "${become[@]}" "$@"

case " $* " in
  *" --check "* | *" -C "*) exit 0 ;;  # nothing was installed: there is no verdict to show
esac
[ -x /usr/local/bin/dlcheck ] || exit 0  # dlcheck turned off (dlstation_install_dlcheck=false)
say "dlcheck doctor"
exec /usr/local/bin/dlcheck doctor
