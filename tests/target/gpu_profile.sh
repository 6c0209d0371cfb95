# The GPU profile of the proof (DLSTATION_PROOF_PROFILE=gpu), sourced by prove.sh.
#
# The target has no GPU, so the proof forces the GPU stack (preflight_gpu_force) and runs it
# for real up to the missing hardware:
# - the driver from the distro (Debian 12: nvidia-driver from non-free), its module built by
#   DKMS against the target's installed distro kernel headers: the running kernel of the CI
#   machine is not a distro kernel, so nvidia_driver_kernel_release names the kernel whose
#   linux-headers the distro's current linux-headers-<arch> package depends on;
# - cuda_toolkit and cudnn from the stand-in for NVIDIA's repository (nvidia_repo.py), served
#   on loopback over https, its test CA appended to the CA bundle the roles install;
# - the frameworks' GPU builds (tensorflow[and-cuda]) with their CUDA and cuDNN wheels.
#
# Environment:
#   DLSTATION_PROOF_CUDA_TOOLKIT=0   converge with dlstation_install_cuda_toolkit=false
#                                    (driver and framework wheels only; no stand-in needed)
# shellcheck shell=bash

gpu_standin_pid=

# Start the stand-in and fill the profile's extra variables (the array gpu_profile_vars).
# Needs: $here, $work, $ca_bundle (the copy the roles install), a running target.
gpu_profile_up() {
  local url release arch meta toolkit=${DLSTATION_PROOF_CUDA_TOOLKIT:-1}
  gpu_profile_vars=(--set preflight_gpu_disable=false --set preflight_gpu_force=true)
  arch=$(bash "$here/target.sh" ssh "$work" dpkg --print-architecture)
  # A fresh rootfs has no package lists yet (the system role would fetch them first anyway).
  bash "$here/target.sh" ssh "$work" sudo apt-get update -qq >/dev/null
  # The distro's current kernel, from its headers metapackage: Debian's linux-headers-<arch>
  # ("Depends: linux-headers-6.1.0-57-amd64 (= ...)"), Ubuntu's linux-headers-generic
  # ("Depends: linux-headers-6.8.0-51-generic").
  meta=linux-headers-$arch
  if bash "$here/target.sh" ssh "$work" grep -qx ID=ubuntu /etc/os-release; then
    meta=linux-headers-generic
  fi
  release=$(bash "$here/target.sh" ssh "$work" apt-cache show --no-all-versions "$meta" |
    sed -nE 's/^Depends:.*\blinux-headers-([0-9][^ ,]*).*/\1/p' | head -1)
  [ -n "$release" ] || fail "the target's apt names no kernel to build for in $meta"
  gpu_profile_vars+=(--set "nvidia_driver_kernel_release=$release")
  if [ "$toolkit" = 0 ]; then
    gpu_profile_vars+=(--set dlstation_install_cuda_toolkit=false)
    # No system toolkit: no nvcc to find.
    gpu_profile_deselect="not nvcc"
    return 0
  fi
  python3 "$here/nvidia_repo.py" build "$work/standin" >"$work/logs/standin-build.json"
  python3 "$here/nvidia_repo.py" serve "$work/standin" >"$work/standin-url" 2>"$work/logs/standin.log" &
  gpu_standin_pid=$!
  for _ in $(seq 50); do
    [ -s "$work/standin-url" ] && break
    sleep 0.1
  done
  url=$(head -1 "$work/standin-url")
  [ -n "$url" ] || fail "the stand-in repository did not start; see $work/logs/standin.log"
  cat "$work/standin/ca.pem" >>"$ca_bundle"
  gpu_profile_vars+=(--set "cuda_toolkit_repo_base_url=$url")
  gpu_profile_vars+=(--set "cuda_toolkit_repo_key_name=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["key_name"])' "$work/standin/standin.json")")
  gpu_profile_vars+=(--set "cuda_toolkit_repo_key_fingerprint=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["fingerprint"])' "$work/standin/standin.json")")
}

gpu_profile_down() {
  [ -z "$gpu_standin_pid" ] || kill "$gpu_standin_pid" 2>/dev/null || true
  gpu_standin_pid=
}
