#!/usr/bin/env bash
# The proof (prove.sh) on every supported platform, each on a fresh target of its own:
# Debian 12 and 13 always; Ubuntu 22.04, 24.04 and 26.04 when DLSTATION_UBUNTU_MIRROR names
# an Ubuntu archive (a mirror, or Ubuntu's own), else they are skipped and the summary says so.
# The fault tests run once, on the first release: they test the roles, not the platform.
# Then the GPU profile (DLSTATION_PROOF_PROFILE=gpu, gpu_profile.sh) on fresh targets (each
# about 15 min on a loaded 2-core machine, docs/testing.md): Debian 12 with the system toolkit
# from the stand-in for NVIDIA's repository, always; the other way, driver plus framework
# wheels only (DLSTATION_PROOF_CUDA_TOOLKIT=0), on Ubuntu 24.04 when DLSTATION_UBUNTU_MIRROR
# is set (the stand-in serves NVIDIA's debian12 layout alone), or on Debian 12 again with
# DLSTATION_PROVE_GPU=both (left out by default: it would add a quarter hour to every run).
# The GPU faults run once, in the first; the installed collection is the CPU proofs' to check.
#
# Environment:
#   DLSTATION_UBUNTU_MIRROR    the Ubuntu archive's URL (never written into a file)
#   DLSTATION_PROVE_RELEASES   the releases to prove, space-separated (default: as above)
#   DLSTATION_PROVE_GPU=0      skip the GPU profile (the summary says so); =both: both ways
#                              on Debian 12 even without the Ubuntu mirror
#   DLSTATION_PROVE_CONTROLLER a stock controller's directory (default: one made here, once,
#                              by stock_controller.sh and removed at the end)
#   plus prove.sh's and target.sh's variables.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
releases=${DLSTATION_PROVE_RELEASES:-}
skipped=""
if [ -z "$releases" ]; then
  releases="debian-12 debian-13"
  if [ -n "${DLSTATION_UBUNTU_MIRROR:-}" ]; then
    releases+=" ubuntu-22.04 ubuntu-24.04 ubuntu-26.04"
  else
    skipped="ubuntu-22.04 ubuntu-24.04 ubuntu-26.04"
  fi
fi

# One stock controller for every platform (docs/testing.md): ansible-core alone and the
# collections of requirements.yml, made once.
controller=${DLSTATION_PROVE_CONTROLLER:-}
if [ -z "$controller" ] || [ "$controller" = stock ]; then
  controller=$(mktemp -d /tmp/dlstation-controller.XXXXXX)
  trap 'rm -rf "$controller"' EXIT
  bash "$here/stock_controller.sh" "$controller" || exit 1
fi
export DLSTATION_PROVE_CONTROLLER=$controller

summary=()
failed=0
faults=${DLSTATION_PROVE_FAULTS:-1}
for release in $releases; do
  printf '\n==> the proof on a fresh %s target\n' "$release"
  t0=$(date +%s)
  if DLSTATION_TARGET_RELEASE=$release DLSTATION_PROVE_FAULTS=$faults bash "$here/prove.sh"; then
    summary+=("$release: passed ($(($(date +%s) - t0)) s)")
  else
    summary+=("$release: FAILED ($(($(date +%s) - t0)) s)")
    failed=1
  fi
  faults=0
done

# The GPU profile: release and toolkit (1: from the stand-in, 0: none), one run each.
gpu_runs=()
gpu_skipped=()
if [ "${DLSTATION_PROVE_GPU:-1}" = 0 ]; then
  gpu_skipped+=("GPU profile: SKIPPED (DLSTATION_PROVE_GPU=0)")
else
  gpu_runs+=("debian-12 1")
  if [ -n "${DLSTATION_UBUNTU_MIRROR:-}" ]; then
    gpu_runs+=("ubuntu-24.04 0")
  else
    [ "${DLSTATION_PROVE_GPU:-1}" != both ] || gpu_runs+=("debian-12 0")
    gpu_skipped+=("ubuntu-24.04, GPU profile: SKIPPED (set DLSTATION_UBUNTU_MIRROR to prove it)")
  fi
fi
gpu_faults=1
for run in "${gpu_runs[@]}"; do
  read -r release toolkit <<<"$run"
  way="driver and framework wheels, no system toolkit"
  [ "$toolkit" = 0 ] || way="system toolkit from the stand-in"
  printf '\n==> the GPU profile on a fresh %s target: %s\n' "$release" "$way"
  t0=$(date +%s)
  if DLSTATION_TARGET_RELEASE=$release DLSTATION_PROOF_PROFILE=gpu \
    DLSTATION_PROOF_CUDA_TOOLKIT=$toolkit DLSTATION_PROVE_GPU_FAULTS=$gpu_faults \
    DLSTATION_PROVE_FAULTS=0 DLSTATION_PROVE_COLLECTION=0 bash "$here/prove.sh"; then
    summary+=("$release, GPU profile ($way): passed ($(($(date +%s) - t0)) s)")
  else
    summary+=("$release, GPU profile ($way): FAILED ($(($(date +%s) - t0)) s)")
    failed=1
  fi
  gpu_faults=0
done

printf '\n==> the proof, per platform\n'
printf '  %s\n' "${summary[@]}"
for release in $skipped; do
  echo "  $release: SKIPPED (set DLSTATION_UBUNTU_MIRROR to an Ubuntu archive's URL to prove it)"
done
[ ${#gpu_skipped[@]} = 0 ] || printf '  %s\n' "${gpu_skipped[@]}"
exit "$failed"
