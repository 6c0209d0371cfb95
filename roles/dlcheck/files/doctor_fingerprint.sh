#!/bin/sh
# The fingerprint of what `dlcheck doctor` judges, so that a re-run can take its last verdict.
#
# Usage (POSIX sh; the role runs `sh -c "<this text>" doctor_fingerprint ...` with the text read
# on the controller, tasks/doctor.yml):
#   sh doctor_fingerprint.sh digest VENV DOCTOR_ARGS DISK_LIMITS
#     prints the digest (sha256) of what the doctor's verdict rests on.
#   sh doctor_fingerprint.sh read STAMP_FILE VENV DOCTOR_ARGS DISK_LIMITS
#     prints the digest, then the stamp file's first line (an empty line when there is none).
#   sh doctor_fingerprint.sh keep STAMP_FILE VENV DOCTOR_ARGS DISK_LIMITS VERDICT
#     writes "<digest> VERDICT" as the stamp file, the digest taken now, right after the
#     doctor ran: so that its own writes count as what it saw (Keras writes its keras.json on
#     its first import; NVML may make the device nodes). In site.yml nothing else writes these
#     inputs while it runs: the apt run is over (the doctor waits for it), and the venv's
#     background compile writes only bytecode, which is no input.
#   VENV is the venv the doctor runs from; DOCTOR_ARGS its arguments, as one string;
#   DISK_LIMITS the free-space limits in GiB, below which the doctor's host check warns or
#   fails (dlcheck/doctor/checks/host.py), separated by spaces.
#
# The digest covers each input of the doctor that can change while the host runs:
# - its arguments, and the host's day (a driver branch's end of life is judged against the
#   doctor's date.today(), the local date);
# - the environment it gets, as this command gets the same (PATH, the linker's variables,
#   HOME, and the variables of CUDA, NVIDIA and the frameworks; not the SSH session's or
#   sudo's, which change with every task);
# - dpkg's status and the linker cache (every apt run, every ldconfig), the CUDA toolkits
#   under /usr/local, and Keras' configuration;
# - the venv: its bin and pyvenv.cfg, the names in site-packages, and each package's record
#   (*.dist-info, *.egg-info: every install makes the folder anew, a reinstall of the same
#   version too, as dlcheck's own rebuilt wheel) and *.pth file, by inode and change time
#   (ctime, which no tool sets back). Not site-packages' own time, nor the packages'
#   folders: python_env's bytecode compile, still running then, adds their __pycache__;
# - the boot, the loaded kernel modules, the NVIDIA driver's version and flavour (open or
#   proprietary), its device nodes, the driver each PCI device is bound to (nvidia or
#   vfio-pci), and the kernels that have an NVIDIA module or headers;
# - for the venv and HOME, which of the free-space limits is crossed.
# Not covered: the GPUs' momentary readings (temperature, clocks, ECC and remapped rows), which
# only NVML gives, in more time than this; the day bounds how old they get.
# Tested by tests/unit/ansible/test_doctor_fingerprint.py, which reads the system's paths under
# a folder of its own, DOCTOR_FINGERPRINT_ROOT (unset on a host: the root).

digest() { # VENV DOCTOR_ARGS DISK_LIMITS
  r=${DOCTOR_FINGERPRINT_ROOT:-}
  digest=$({
    # The host's day, as the doctor's date.today() sees it.
    printf '%s\n' "$2" "$(date +%Y-%m-%d)"
    # The shell lists its variables sorted (dash, and bash as sh).
    export -p | grep -E '^export (PATH|LD_LIBRARY_PATH|LD_PRELOAD|HOME|(CUDA|CUDNN|NVIDIA|NCCL|TF|XLA|JAX|TORCH|PYTORCH|KERAS|PYTHON)[A-Z0-9_]*)='
    stat -c '%n %i %z' "$r/var/lib/dpkg/status" "$r/etc/ld.so.cache" "$r"/usr/local/cuda* \
      "${KERAS_HOME:-${HOME:-/}/.keras}/keras.json" "$1/bin" "$1/pyvenv.cfg" \
      "$1"/lib/python3*/site-packages/*.dist-info "$1"/lib/python3*/site-packages/*.egg-info \
      "$1"/lib/python3*/site-packages/*.pth 2>/dev/null
    ls -1 "$1"/lib/python3*/site-packages 2>/dev/null | grep -vx __pycache__
    cat "$r/proc/sys/kernel/random/boot_id" "$r/sys/module/nvidia/version" \
      "$r/proc/driver/nvidia/version" 2>/dev/null
    # Newest first, as the kernel lists them: the list changes only when one is (un)loaded.
    cut -d' ' -f1 "$r/proc/modules" 2>/dev/null
    printf '%s\n' "$r"/dev/nvidia* "$r"/lib/modules/*/updates/dkms/nvidia*.ko* \
      "$r"/lib/modules/*/kernel/nvidia-*/nvidia.ko* "$r"/lib/modules/*/build/Makefile
    stat -c '%N' "$r"/sys/bus/pci/devices/*/driver 2>/dev/null
    df -P -B1 "$1" "${HOME:-/}" 2>/dev/null | awk -v limits="$3" 'NR > 1 {
      n = split(limits, limit, " "); below = 0
      for (i = 1; i <= n; i++) if ($4 < limit[i] * 1073741824) below++
      print $NF, below
    }'
  } | sha256sum)
  printf '%s\n' "${digest%% *}"
}

case "$1" in
  digest) digest "$2" "$3" "$4" ;;
  read) digest "$3" "$4" "$5" && { head -n1 "$2" 2>/dev/null || echo; } ;;
  keep) d=$(digest "$3" "$4" "$5") && umask 022 && printf '%s %s\n' "$d" "$6" >"$2.new" && mv -f "$2.new" "$2" ;;
  *) echo "usage: $0 digest|read|keep ... (see the file's header)" >&2; exit 2 ;;
esac
