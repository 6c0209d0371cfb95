#!/usr/bin/env bash
# What a converge left on the target, for benchmarks/target_timings.py:
#   measure.sh WORK OUT VENV [RX_BYTES]
# writes OUT/bytes.env (apt and pip download sizes, and RX_BYTES as net_rx_bytes),
# OUT/apt-manual.txt (apt packages marked manual) and OUT/pip-freeze.txt (the venv's
# distributions).
#   measure.sh net-rx
# prints the bytes this machine's network interfaces (loopback aside) have received: the
# difference around a converge is everything it downloaded, uv's downloads included, which
# log no sizes (the target shares this machine's network; its SSH is on loopback).
#
# apt: the .deb files in apt's archive cache (apt keeps them: the rootfs has no clean-up
# hook), exact. pip: the sizes pip logged for each "Downloading" (to the log file that
# `measure.sh pip-log ROOTFS` configures before the converge), to pip's rounding (0.1 MB).
# %.0f, not %d: mawk clamps %d at 2^31-1, and the GPU profile downloads 3.6 GB.
# pip's own HTTP cache cannot serve: on this network the responses are not cacheable.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pip_log=/var/log/dlstation-pip.log

if [ "${1:-}" = pip-log ]; then
  # Before the converge: every pip run on the target appends a verbose log there.
  root=${2:?usage: measure.sh pip-log ROOTFS}
  printf '# benchmarks/target_timings.py: log every pip run (download sizes)\n[global]\nlog = %s\n' \
    "$pip_log" >"$root/etc/pip.conf"
  exit 0
fi

if [ "${1:-}" = net-rx ]; then
  # /proc/net/dev: two header lines, then "  eth0: RXBYTES packets ..." (long names unpadded).
  awk 'NR > 2 { sub(/^ +/, ""); split($0, f, /[: ]+/); if (f[1] != "lo") s += f[2] }
       END { printf "%.0f\n", s }' /proc/net/dev
  exit 0
fi

work=${1:?usage: measure.sh WORK OUT VENV}
out=${2:?usage: measure.sh WORK OUT VENV}
venv=${3:?usage: measure.sh WORK OUT VENV}
mkdir -p "$out"
on_target() { bash "$here/target.sh" ssh "$work" "sudo sh -c $(printf '%q' "$1")"; }
on_target 'find /var/cache/apt/archives -name "*.deb" -printf "%s\n"' |
  awk '{ s += $1 } END { printf "apt_deb_bytes=%.0f\n", s }' >"$out/bytes.env"
on_target "cat $pip_log 2>/dev/null || true" >"$out/pip.log"
# "Downloading tensorflow_cpu-2.21.0-...whl (257.2 MB)"; pip's units are decimal.
sed -nE 's/.*Downloading .*\(([0-9.]+) (bytes|kB|MB|GB)\)[[:space:]]*$/\1 \2/p' "$out/pip.log" |
  awk '{ m = ($2 == "GB") ? 1e9 : ($2 == "MB") ? 1e6 : ($2 == "kB") ? 1e3 : 1; s += $1 * m }
       END { printf "pip_download_bytes=%.0f\n", s }' >>"$out/bytes.env"
[ -z "${4:-}" ] || echo "net_rx_bytes=$4" >>"$out/bytes.env"
on_target 'apt-mark showmanual' >"$out/apt-manual.txt"
on_target "$venv/bin/python -m pip freeze --all 2>/dev/null || true" >"$out/pip-freeze.txt"
