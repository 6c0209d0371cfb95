#!/usr/bin/env bash
# Would the first converge gain from running apt and pip side by side? (Run by hand, as
# root: sudo bash benchmarks/apt_pip_overlap.sh.) The measurement behind site.yml's overlap.
#
# Two equally fresh Debian 12 targets (tests/target/target.sh, no cached rootfs). On each:
# apt-get update, python3-venv and a venv (the "prep", what pip needs before it can start),
# then the CPU profile's apt packages (every non-GPU role's lists) and its pip packages
# (the roles' lists plus the TensorFlow and Keras pins of dlcheck/compat/compat.json),
# directly over SSH: side by side on one target, one after the other on the other.
# Prints the seconds of each part.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH=$repo/.venv/bin:$PATH DLSTATION_TARGET_CACHE=off
py=$repo/.venv/bin/python
lists=$("$py" - <<'EOF'
import json, sys
sys.path.insert(0, "tests/infra")
import rolevars
apt = sorted({i.name for i in rolevars.apt_packages() if i.role not in rolevars.GPU_ROLES})
pip = sorted({i.name for i in rolevars.pip_packages() if i.role not in rolevars.GPU_ROLES})
pins = json.load(open("dlcheck/compat/compat.json"))["pins"]
pip += [f"tensorflow-cpu=={pins['tensorflow']}", f"keras=={pins['keras']}"]
print(" ".join(apt) + "|" + " ".join(pip))
EOF
)
apt=${lists%%|*}
pip=${lists#*|}
ca=${DLSTATION_CA_BUNDLE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
echo "apt: $apt"
echo "pip: $pip"

now() { date +%s%N; }
secs() { echo "scale=1; ($2 - $1) / 1000000000" | bc; }

for mode in side-by-side one-after-the-other; do
  work=$(mktemp -d /tmp/dlstation-overlap.XXXXXX)
  bash tests/target/target.sh up "$work" >/dev/null 2>&1
  trap 'bash tests/target/target.sh down "$work" >/dev/null 2>&1; rm -rf --one-file-system "$work"' EXIT
  mkdir -p "$work/rootfs/usr/local/share/ca-certificates"
  cp "$ca" "$work/rootfs/usr/local/share/ca-certificates/dlstation-ca.crt"
  on() { bash tests/target/target.sh ssh "$work" "$1"; }
  t0=$(now)
  on "sudo sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null &&
    apt-get install -y -q --no-install-recommends python3-venv >/dev/null &&
    update-ca-certificates >/dev/null && python3 -m venv /opt/overlap'"
  t1=$(now)
  apt_cmd="sudo sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $apt >/dev/null 2>&1'"
  pip_cmd="sudo /opt/overlap/bin/pip install -q --progress-bar off --cert /etc/ssl/certs/ca-certificates.crt $pip"
  if [ "$mode" = side-by-side ]; then
    on "$apt_cmd" &
    on "$pip_cmd"
    wait $!
  else
    on "$apt_cmd"
    on "$pip_cmd"
  fi
  t2=$(now)
  echo "$mode: prep $(secs "$t0" "$t1") s, apt and pip $(secs "$t1" "$t2") s"
  bash tests/target/target.sh down "$work" >/dev/null 2>&1
  rm -rf --one-file-system "$work"
  trap - EXIT
done
