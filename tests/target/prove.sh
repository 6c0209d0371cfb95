#!/usr/bin/env bash
# The proof on a real host: make a fresh target from nothing (DLSTATION_TARGET_RELEASE:
# debian-12 by default; tests/target/prove_platforms.sh runs every platform), converge it with
# playbooks/site.yml over SSH, converge again (changed=0), run --check (no changes), run
# the testinfra suite, provoke the faults, and tear the target down, always.
#
# Environment:
#   DLSTATION_PROVE_FAULTS=0     skip the fault tests (the bench does)
#   DLSTATION_PROVE_COLLECTION=0 skip the converge from the installed collection (collection.sh)
#   DLSTATION_PROVE_STANDIN=0    skip the CUDA roles against the stand-in NVIDIA repository
#                                (it serves the debian12 layout: only debian-12 runs it)
#   DLSTATION_PROOF_PROFILE=gpu  the GPU profile: driver, CUDA, cuDNN and the frameworks' GPU
#                                builds, forced on a target without a GPU (gpu_profile.sh)
#   DLSTATION_PROVE_GPU_FAULTS=0 skip the GPU profile's fault tests (test_gpu_faults.py)
#   DLSTATION_PROVE_TIMINGS=FILE append "step<TAB>seconds" lines to FILE
#   DLSTATION_PROVE_MEASURE=DIR  after the first converge, record bytes downloaded and
#                                what was installed into DIR (tests/target/measure.sh)
#   DLSTATION_TARGET_KEEP=1      keep the target's rootfs after teardown (for debugging)
#   DLSTATION_TARGET_WORK=DIR    work directory (default: a new one under /tmp)
#   DLSTATION_CA_BUNDLE=FILE     the controller's CA bundle passed to the roles
#   DLSTATION_MNIST_DIR=DIR      MNIST IDX files for the bench test (default ../shared/data/mnist)
#   DLSTATION_PROVE_CONTROLLER=stock|DIR  converge from a stock controller (made by
#                                stock_controller.sh, or the one in DIR: ansible-core alone
#                                plus requirements.yml's collections)
#   plus target.sh's variables (DLSTATION_TARGET_CACHE=off for a build from scratch).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
[ -x "$repo/.venv/bin/ansible-playbook" ] && export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PYTHONUNBUFFERED=1

work=${DLSTATION_TARGET_WORK:-$(mktemp -d /tmp/dlstation-target.XXXXXX)}
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
timings=${DLSTATION_PROVE_TIMINGS:-$work/logs/timings.tsv}
: >>"$timings"
started=$(date +%s)

say() { printf '\n--> [prove %ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() {
  printf '\nPROOF FAILED: %s\n' "$*" >&2
  exit 1
}

# Run a named step, record its wall time.
timed() {
  local name=$1 t0 dt rc=0
  shift
  t0=$(date +%s%N)
  "$@" || rc=$?
  dt=$((($(date +%s%N) - t0) / 100000000))
  printf '%s\t%d.%d\n' "$name" $((dt / 10)) $((dt % 10)) >>"$timings"
  return $rc
}

# After a failure the target goes, and with it the doctor's report, which says how each of its
# child probes ended: keep it with the logs, and show the checks that did not pass.
keep_doctor_report() {
  local report=$work/rootfs/var/lib/dlstation/doctor.json
  [ -f "$report" ] || return 0
  cp "$report" "$work/logs/doctor.json" || return 0
  echo "the doctor's report on the target: $work/logs/doctor.json; its checks that did not pass:"
  python3 - "$work/logs/doctor.json" <<'EOF' || :
import json, sys
for check in json.load(open(sys.argv[1], encoding="utf-8")).get("checks", []):
    if check.get("status") not in ("pass", "skip"):
        print(json.dumps(check, indent=1, sort_keys=True)[:4000])
EOF
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  say "teardown"
  [ "$rc" = 0 ] || keep_doctor_report
  ! declare -F gpu_profile_down >/dev/null || gpu_profile_down
  # Also after a failed build: nothing may be left mounted or running either way.
  if ! bash "$here/target.sh" down "$work"; then
    rc=1
    echo "the target's rootfs stays at $work/rootfs: remove it once nothing is mounted there"
  elif [ "${DLSTATION_TARGET_KEEP:-0}" != 1 ] && [ -d "$work/rootfs" ]; then
    # --one-file-system: never follow a mount into the controller.
    rm -rf --one-file-system "$work/rootfs" "$work/tmp"
  fi
  echo "timings (s):"
  sed 's/^/  /' "$timings"
  echo "logs: $work/logs"
  if [ "$rc" = 0 ]; then echo "PROOF PASSED"; else echo "PROOF FAILED (exit $rc)"; fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# The controller's CA bundle: this network (like a corporate proxy) re-signs TLS, and
# the roles never carry a CA of their own.
ca_bundle=${DLSTATION_CA_BUNDLE:-${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}}
[ -n "$ca_bundle" ] || ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca_bundle" ] || fail "no CA bundle at $ca_bundle; set DLSTATION_CA_BUNDLE"
# A copy: the controller's bundle may be regenerated during the run (update-ca-certificates),
# and a changed source would rightly make the second converge report a change.
cp "$ca_bundle" "$work/ca-bundle.pem"
ca_bundle=$work/ca-bundle.pem

say "harness self-test (recap reader, extra variables)"
pytest -q -p no:cacheprovider "$here/test_recap.py" "$here/test_extra_vars.py" "$here/test_nvidia_repo.py"

# --- platforms: a stock controller (DLSTATION_PROVE_CONTROLLER=stock, or one's path) ---
controller=${DLSTATION_PROVE_CONTROLLER:-}
if [ "$controller" = stock ]; then
  say "a stock controller: ansible-core alone, and the collections of requirements.yml"
  controller=$work/controller
  bash "$here/stock_controller.sh" "$controller"
fi
if [ -n "$controller" ]; then
  [ -x "$controller/bin/ansible-playbook" ] || fail "no stock controller at $controller"
  # Its ansible-playbook first; pytest (testinfra) stays the repository's. Only its collections.
  export PATH="$controller/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$controller/collections"
fi
# --- end: a stock controller ---

say "make the target"
timed make_target bash "$here/target.sh" up "$work"
[ -z "${DLSTATION_PROVE_MEASURE:-}" ] || bash "$here/measure.sh" pip-log "$work/rootfs"

# --- GPU profile (DLSTATION_PROOF_PROFILE=gpu): tests/target/gpu_profile.sh ---
profile=${DLSTATION_PROOF_PROFILE:-cpu}
gpu_profile_vars=()
if [ "$profile" = gpu ]; then
  # The CPU faults and the stand-in check of the CPU proof are not repeated here.
  : "${DLSTATION_PROVE_FAULTS:=0}" "${DLSTATION_PROVE_STANDIN:=0}"
  # shellcheck source=tests/target/gpu_profile.sh
  source "$here/gpu_profile.sh"
  timed gpu_profile_up gpu_profile_up
fi
# --- end of the GPU profile block ---

# The roles' inputs for this target: the profile and the controller's CA bundle.
python3 "$here/extra_vars.py" --repo "$repo" --ca-bundle "$ca_bundle" "${gpu_profile_vars[@]}" \
  >"$work/extra-vars.yml"
sed 's/^/  /' "$work/extra-vars.yml"
inv=$work/inventory
# Measuring: per-task times in the logs (the TASKS RECAP after the PLAY RECAP).
[ -z "${DLSTATION_PROVE_MEASURE:-}" ] || export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
  PROFILE_TASKS_TASK_OUTPUT_LIMIT=all
playbook() {
  local log=$1
  shift
  ansible-playbook -i "$inv" playbooks/site.yml -e "@$work/extra-vars.yml" "$@" 2>&1 |
    tee "$work/logs/$log"
  return "${PIPESTATUS[0]}"
}

say "first converge"
rc=0
[ -z "${DLSTATION_PROVE_MEASURE:-}" ] || rx0=$(bash "$here/measure.sh" net-rx)
timed first_converge playbook converge-1.log || rc=$?
[ -z "${DLSTATION_PROVE_MEASURE:-}" ] || rx=$(($(bash "$here/measure.sh" net-rx) - rx0))
# site.yml plans the roles' packages into one apt run and one pip run: each role's own
# install step (roles/common's apt.yml and pip.yml) must then find nothing to do (a second apt
# or pip start costs seconds).
python3 "$here/recap.py" "$work/logs/converge-1.log" \
  --skipped "common : Install Python, venv support, Tk and the packaging library" \
  --skipped "common : Install OpenBLAS and LAPACK" \
  --skipped "common : Install the HDF5 library and headers" \
  --skipped "common : Install into the venv: h5py" \
  --skipped "common : Install Graphviz" \
  --skipped "common : Install into the venv: pydot" \
  --skipped "common : Install into the venv: OpenCV" \
  --skipped "common : Install into the venv: TensorFlow and Keras 3" ||
  fail "first converge (exit $rc)"
[ "$rc" = 0 ] || fail "first converge: ansible-playbook exited $rc"
if [ -n "${DLSTATION_PROVE_MEASURE:-}" ]; then
  venv=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["python_env_venv_path"])' \
    roles/python_env/defaults/main.yml)
  bash "$here/measure.sh" "$work" "$DLSTATION_PROVE_MEASURE" "$venv" "$rx"
fi

# The second converge and --check run every role (dlstation_converge_reuse=false): the roles
# themselves must find nothing to do. A third, plain run then must end after the preflight.
say "second converge: must change nothing"
rc=0
timed second_converge playbook converge-2.log -e dlstation_converge_reuse=false || rc=$?
# Nothing the doctor judges changed since the first converge: its verdict is reused, not re-run.
python3 "$here/recap.py" "$work/logs/converge-2.log" --changed 0 \
  --skipped "dlcheck : Run dlcheck doctor" ||
  fail "second converge is not idempotent, or ran the doctor again (exit $rc)"

say "check mode on the converged host: must report no changes"
rc=0
timed check_mode playbook check.log --check --diff -e dlstation_converge_reuse=false || rc=$?
python3 "$here/recap.py" "$work/logs/check.log" --changed 0 || fail "check mode (exit $rc)"

rc=0
if [ "$profile" = gpu ]; then
  # The stand-in driver's module never loads here: a reboot stays pending, a pending reboot
  # leaves no record, and every run must run the roles and say so again.
  say "a re-run with a reboot pending: must run the roles and say so again"
  timed rerun playbook rerun.log || rc=$?
  python3 "$here/recap.py" "$work/logs/rerun.log" --changed 0 || fail "the re-run (exit $rc)"
  grep -q 'The roles run: no converge on record' "$work/logs/rerun.log" &&
    grep -q 'REBOOT PENDING' "$work/logs/rerun.log" ||
    fail "the re-run with a reboot pending did not run the roles, or did not say so"
else
  say "a re-run with nothing to do: must end after the preflight"
  timed rerun playbook rerun.log || rc=$?
  python3 "$here/recap.py" "$work/logs/rerun.log" --changed 0 \
    --absent "Check each role's variables and preconditions" \
    --absent "dlcheck : Run dlcheck doctor" || fail "the re-run (exit $rc)"
  grep -q 'Nothing changed since the converge of' "$work/logs/rerun.log" ||
    fail "the re-run did not find the last converge's record"
fi

say "testinfra suite"
# --gpu=no: the target got the CPU profile (preflight_gpu_disable), whatever /sys shows.
timed testinfra pytest -p no:cacheprovider tests/infra \
  --hosts=ansible://all --ansible-inventory="$inv" --gpu=no \
  --junitxml="$work/logs/testinfra.xml" || fail "testinfra suite"
if [ "$profile" = gpu ]; then
  # The installed GPU stack, without the tests that need the device itself.
  timed testinfra_gpu pytest -p no:cacheprovider tests/infra/test_gpu.py \
    --hosts=ansible://all --ansible-inventory="$inv" --gpu=yes -m "not gpu_device" \
    -k "${gpu_profile_deselect:-not nothing}" \
    --junitxml="$work/logs/testinfra-gpu.xml" || fail "testinfra GPU suite"
  if [ "${DLSTATION_PROVE_GPU_FAULTS:-1}" != 0 ]; then
    say "bad input for the GPU stack, fed to the preflight"
    DLSTATION_TARGET_WORK=$work DLSTATION_TARGET_VARS=$work/extra-vars.yml \
      timed gpu_faults pytest -p no:cacheprovider "$here/test_gpu_faults.py" \
      --junitxml="$work/logs/gpu-faults.xml" || fail "GPU fault tests"
  fi
fi

# --- the roles as an installed collection, on this target (tests/target/collection.sh) ---
if [ "${DLSTATION_PROVE_COLLECTION:-1}" != 0 ]; then
  say "the roles from the installed collection, from a collection-only controller"
  timed collection bash "$here/collection.sh" "$work" || fail "the collection on the target"
fi
# --- end of the collection block ---

if [ "${DLSTATION_PROVE_FAULTS:-1}" != 0 ]; then
  say "fault tests on the converged target"
  export DLSTATION_TARGET_WORK=$work DLSTATION_TARGET_VARS=$work/extra-vars.yml
  timed faults pytest -p no:cacheprovider "$here/test_faults.py" \
    --junitxml="$work/logs/faults.xml" || fail "fault tests"
fi

# --- NVIDIA's CUDA repository, through the stand-in (tests/target/nvidia_repo.py) ---
# The stand-in serves NVIDIA's debian12 layout only (nvidia_repo.py): other releases skip it.
if [ "${DLSTATION_PROVE_STANDIN:-1}" != 0 ] && [ "${DLSTATION_TARGET_RELEASE:-debian-12}" = debian-12 ]; then
  say "cuda_toolkit and cudnn against the stand-in for NVIDIA's repository"
  export DLSTATION_TARGET_WORK=$work
  timed nvidia_standin pytest -p no:cacheprovider "$here/test_nvidia_standin.py" \
    --junitxml="$work/logs/nvidia-standin.xml" || fail "NVIDIA repository stand-in"
fi
# --- end of the stand-in block ---
