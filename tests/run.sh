#!/usr/bin/env bash
# The whole test suite: the README's test command, and what CI runs (.ci/run).
# Works from a bare Debian 12 / Ubuntu machine as root (or a user with sudo, through which
# it runs itself again): it installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=lib/as-root.sh
. "$repo/lib/as-root.sh"
as_root "$repo/tests/run.sh" "$@"
started=$(date +%s)
stage() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

stage "system packages (apt)"
mapfile -t apt_pkgs < <(grep -v '^\s*#' tests/apt-packages.txt | grep -v '^\s*$')
missing=()
for p in "${apt_pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stage "python environment (.venv)"
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[dev,tf,plot,draw]"
export PATH="$repo/.venv/bin:$PATH"

stage "lint: ruff, yamllint, ansible-lint"
ruff check dlcheck tests benchmarks plugins roles
ruff format --check dlcheck tests benchmarks plugins roles
yamllint -s .
ansible-lint --profile production --offline playbooks/ roles/ galaxy.yml meta/

stage "unit tests (real TensorFlow on CPU, fake NVML at the library boundary)"
pytest tests/unit

stage "playbook syntax and Vagrantfile"
bash tests/static.sh

stage "fresh isolated targets, one per platform: converge, converge again, --check, testinfra"
bash tests/target/prove_platforms.sh

stage "done in $(( $(date +%s) - started ))s"
