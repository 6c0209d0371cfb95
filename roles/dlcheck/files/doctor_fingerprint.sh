#!/bin/sh
# The fingerprint of what `dlcheck doctor` judged, so that a re-run can take its last verdict.
#
# Usage (POSIX sh; the role runs `sh -c "<this text>" doctor_fingerprint ...` with the text read
# on the controller, tasks/doctor.yml):
#   sh doctor_fingerprint.sh VENV STAMP_FILE DOCTOR_ARGS [read | keep VERDICT]
#   prints a digest of what the doctor's verdict rests on; with "read", then the stamp file's
#   line (an empty line if none); with "keep", writes "<digest> VERDICT" as the stamp file
#   instead.
# stat's times change with every dpkg run or ldconfig; boot_id with a reboot. The venv's packages
# go by name (a pip install or upgrade changes its *.dist-info names): site-packages' own time
# also changes when python_env's bytecode compile, still running then, adds its __pycache__.
# Tested through the role by tests/unit/ansible/test_dlcheck_doctor_reuse.py.
digest=$({
  printf '%s\n' "$3" "$(date -u +%Y-%m-%d)"
  stat -c '%n %Y %s' /var/lib/dpkg/status /etc/ld.so.cache "$1/bin" 2>/dev/null
  ls -1 "$1"/lib/python3*/site-packages 2>/dev/null | grep -vx __pycache__
  cat /proc/sys/kernel/random/boot_id /sys/module/nvidia/version 2>/dev/null
  cut -d' ' -f1 /proc/modules 2>/dev/null | LC_ALL=C sort
} | sha256sum | cut -d' ' -f1)
case "${4:-}" in
  read) printf '%s\n' "$digest"; head -n1 "$2" 2>/dev/null || echo ;;
  keep) umask 022; printf '%s %s\n' "$digest" "$5" >"$2.new" && mv -f "$2.new" "$2" ;;
  *) printf '%s\n' "$digest" ;;
esac
