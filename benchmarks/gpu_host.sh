#!/usr/bin/env bash
# Everything dlcheck can only prove on a real NVIDIA GPU, in one run by hand:
#   benchmarks/gpu_host.sh OUT [MNIST_DIR [PARTS]]
# PARTS is a comma-separated subset of doctor,bench,speed (default: all three): doctor
# is the doctor, its unit tests and the GPU-marked ones; bench is one bench per backend
# and model and testinfra's GPU tests; speed is the two timing scripts.
# PYTHON (default python3) is the interpreter with dlcheck's needs and at least one of
# TensorFlow, PyTorch or JAX with Keras 3. Writes into OUT:
#   host.txt                  nvidia-smi and /proc/driver/nvidia/version, as read
#   doctor-v.txt, doctor.json `dlcheck doctor -v` and `--json`, with their exit codes
#   doctor-times.txt          benchmarks/doctor_speed.py: the doctor, --no-frameworks, `import
#                             tensorflow` and torch's collect_env, side by side
#   bench-BACKEND-MODEL.json  `dlcheck bench --device gpu --compare-cpu` per backend/model
#   backends.txt              benchmarks/bench_backends.py --device gpu (median of 3 rounds)
#   pytest-*.txt              the GPU-marked unit tests, the doctor's unit tests (fake
#                             NVML must not be fooled by a real one) and the testinfra
#                             GPU tests against this host
# Each step has its own time limit and a failed step does not stop the others: the
# point is to see every result. The exit code is the number of failed steps.
set -uo pipefail
out=${1:?usage: gpu_host.sh OUT [MNIST_DIR [PARTS]]}
data=${2:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data/mnist}
parts=${3:-doctor,bench,speed}
py=${PYTHON:-python3}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
mkdir -p "$out"
export TF_CPP_MIN_LOG_LEVEL=2 DLCHECK_TEST_MNIST_DIR=$data DLSTATION_MNIST_DIR=$data
failed=0

step() { # step NAME SECONDS CMD...: run CMD into OUT/NAME, note its exit code and time
  local name=$1 limit=$2
  shift 2
  local t0 rc
  t0=$(date +%s%N)
  timeout "$limit" "$@" >"$out/$name" 2>"$out/$name.err"
  rc=$?
  printf '%-28s exit %3d  %6d ms\n' "$name" "$rc" $((($(date +%s%N) - t0) / 1000000)) |
    tee -a "$out/steps.txt"
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
}

backends=()
for b in tensorflow torch jax; do
  "$py" -c "import importlib.util as u, sys; sys.exit(u.find_spec('$b') is None)" &&
    backends+=("$b")
done
echo "backends: ${backends[*]}" | tee "$out/steps.txt"

if [[ $parts == *doctor* ]]; then
  step host.txt 60 sh -c 'nvidia-smi; nvidia-smi -q | head -40; cat /proc/driver/nvidia/version'
  step doctor-v.txt 300 "$py" -m dlcheck doctor -v
  step doctor.json 300 "$py" -m dlcheck doctor --json
  step pytest-gpu-marked.txt 600 "$py" -m pytest -p no:cacheprovider -m gpu tests/unit -rA
  step pytest-doctor-unit.txt 600 "$py" -m pytest -p no:cacheprovider tests/unit/doctor -q
fi
if [[ $parts == *bench* ]]; then
  for b in "${backends[@]}"; do
    for m in mlp cnn; do
      step "bench-$b-$m.json" 300 "$py" -m dlcheck bench --json --backend "$b" --model "$m" \
        --data "$data" --device gpu --compare-cpu
    done
  done
  # TensorFlow's GPU test is left out where TensorFlow is not installed.
  no_tf=()
  [[ " ${backends[*]} " == *" tensorflow "* ]] || no_tf=(-k "not tensorflow")
  step pytest-infra-gpu.txt 300 "$py" -m pytest -p no:cacheprovider tests/infra/test_gpu.py \
    --hosts=local:// --gpu=yes -rA "${no_tf[@]}"
fi
if [[ $parts == *speed* ]]; then
  step doctor-times.txt 600 "$py" benchmarks/doctor_speed.py -n 3 --python "$py"
  step backends.txt 600 "$py" benchmarks/bench_backends.py --device gpu --rounds 3 --data "$data"
fi
exit "$failed"
