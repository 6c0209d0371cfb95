#!/bin/sh
# The record of the last whole converge, and the comparison of this host with it.
#
# Usage (POSIX sh; the role runs `sh -c "<this text>" converge_record MODE ...` with the text
# read on the controller, tasks/unchanged.yml and tasks/record.yml):
#   sh converge_record.sh MODE STAMP INPUTS APT_MAX_AGE PRESENT WATCHED...
#     MODE         check (read-only): prints "reuse <time of the last converge>" when the
#                  inputs, the boot, the loaded kernel modules, the timers and which paths exist
#                  are as recorded, the apt lists are fresh and nothing watched is newer than
#                  the record; else "run <why>". A stale record needs no removing: whatever a
#                  later run changes is newer than it.
#                  record: writes the record.
#     STAMP        the record's file.
#     INPUTS       the digest of the converge's inputs (code, Ansible's version, variables).
#     APT_MAX_AGE  seconds after which the apt lists are stale (the converge refreshes them).
#     PRESENT      paths of which only whether each exists counts, one per line.
#     WATCHED      paths whose every change (find -cnewer) since the record means a run.
# Tested by tests/unit/ansible/test_converge_record.py.
mode=$1 stamp=$2 inputs=$3 max_age=$4 present=$5; shift 5
state=$({
  printf '%s\n' "$present" | while IFS= read -r path; do [ ! -e "$path" ] || echo "$path"; done
  ls -d "$@" 2>/dev/null
  cat /proc/sys/kernel/random/boot_id /sys/module/nvidia/version 2>/dev/null
  cut -d' ' -f1 /proc/modules 2>/dev/null | LC_ALL=C sort
  systemctl list-units --all --plain --no-legend --no-pager --type=timer 'dlcheck-*' 2>/dev/null | awk '{print $1, $3}'
} | sha256sum | cut -d' ' -f1)
if [ "$mode" = record ]; then
  # find -cnewer (below) compares with the record's mtime; file times come from a clock that
  # ticks every few ms, so the record is dated 20 ms back, and a change right after it still
  # counts. Its first creation changes its folder: 30 ms before that date.
  [ -e "$stamp" ] || { mkdir -p "${stamp%/*}" && true > "$stamp" && sleep 0.03; }
  printf '%s %s %s\n' "$inputs" "$state" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$stamp"
  exec touch -d "@$(date +%s.%N | awk '{printf "%.3f", $1 - 0.02}')" "$stamp"
fi
why=
lists=/var/lib/apt/periodic/update-success-stamp
[ -e "$lists" ] || lists=/var/lib/apt/lists
if ! read -r last_inputs last_state when < "$stamp" 2>/dev/null || [ -z "$when" ]; then
  why="no converge on record in $stamp"
elif [ "$last_inputs" != "$inputs" ]; then
  why="the variables, the code or Ansible's version changed since the last converge ($when)"
elif [ "$last_state" != "$state" ]; then
  why="the boot, the loaded kernel modules, the timers or which watched paths exist changed since the last converge ($when)"
elif [ $(( $(date +%s) - $(stat -c %Y "$lists" 2>/dev/null || echo 0) )) -ge "$max_age" ]; then
  why="the apt lists are older than system_apt_cache_valid_time ($max_age s): the converge refreshes them"
else
  new=$(find "$@" ! -path "$stamp" -cnewer "$stamp" -print -quit 2>/dev/null)
  [ -z "$new" ] || why="$new changed after the last converge ($when)"
fi
if [ -z "$why" ]; then echo "reuse $when"; else echo "run $why"; fi
