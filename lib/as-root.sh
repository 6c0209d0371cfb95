# shellcheck shell=bash
# Sourced by provision.sh and tests/run.sh, which need root (apt, /opt, /etc).
#   as_root /abs/path/of/the/script "$@"
# Root goes on. A user with sudo gets the script again through sudo (which asks for the
# password). A user without sudo (a fresh Debian server has none) is told the exact command
# to run as root, and the script stops with exit 1.
as_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  local script=$1 name=${1##*/} cmd
  shift
  if command -v sudo >/dev/null; then
    printf '==> %s needs root: running it again with sudo\n' "$name" >&2
    exec sudo -- "$script" "$@"
  fi
  cmd=$(printf '%q ' "$script" "$@")
  cmd=${cmd% }
  printf '%s needs root, and there is no sudo here. Run it as root:\n' "$name" >&2
  printf "  su -c '%s' root\n" "${cmd//\'/\'\\\'\'}" >&2
  printf 'or, in a root shell:\n  %s\n' "$cmd" >&2
  exit 1
}
