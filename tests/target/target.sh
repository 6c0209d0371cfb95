#!/usr/bin/env bash
# A fresh, isolated Debian 12 host for the end-to-end proof.
#
#   target.sh up WORK     build (or reuse a cached) rootfs, start it as its own host,
#                         write WORK/inventory/ (Ansible) and WORK/ssh-config (ssh://)
#   target.sh down WORK   end the host and check that nothing is left mounted or running
#   target.sh ssh WORK CMD...   run a command on the target as the Ansible user
#   target.sh build DIR   only build a rootfs into DIR (no cache); used by the bench
#
# The host is a chroot with its own mount, pid, uts and ipc namespaces; sshd is its
# PID 1 and listens on a free loopback port. The network namespace is shared so apt and
# pip inside reach the archives the same way the controller does.
#
# Environment:
#   DLSTATION_TARGET_CACHE  directory for cached rootfs tarballs ("off" disables;
#                           default: <repo>/.target/cache)
#   DLSTATION_TARGET_SUITE  Debian suite (default: bookworm)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite=${DLSTATION_TARGET_SUITE:-bookworm}
target_user=dlops
target_hostname=dlstation-target
# What a bare cloud image has, and no more: Ansible needs python3 (and, since
# ansible-core 2.19, python3-packaging for its pip module), sudo and sshd.
includes=python3,python3-packaging,sudo,openssh-server

log() { printf '[target] %s\n' "$*" >&2; }
die() {
  printf '[target] error: %s\n' "$*" >&2
  exit 1
}

# The controller's own apt sources: a deb822 file or a one-line-style list.
host_sources() {
  local f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list; do
    # Only enabled files that name Debian's suite: other vendors' lists are not ours.
    if [ -s "$f" ] && grep -qE "^[^#]*\b${suite}\b" "$f" && grep -qE '^[^#]*debian' "$f"; then
      echo "$f"
      return 0
    fi
  done
  die "no apt sources for Debian ${suite} found on this machine (looked in /etc/apt); \
point DLSTATION_TARGET_SOURCES at a sources file"
}

# apt settings the controller needs to reach its archive (validity checks, proxies, CA).
host_aptopts() {
  apt-config dump |
    grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::(Proxy|CaInfo|Verify-Peer|Verify-Host))' ||
    true
}

cache_key() {
  local sources=$1 aptopt=$2
  {
    echo "$suite $includes"
    mmdebstrap --version
    cat "$sources" "$aptopt"
    date -u +%F # the archive moves on: a day-old rootfs is rebuilt
  } | sha256sum | cut -c1-16
}

# Build a minbase rootfs into $1 with the controller's apt sources and settings.
build_rootfs() {
  local dest=$1 sources aptopt
  command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
  sources=${DLSTATION_TARGET_SOURCES:-$(host_sources)}
  aptopt=$(dirname "$dest")/apt-host.conf
  host_aptopts >"$aptopt"
  log "mmdebstrap $suite (minbase + $includes) from $sources"
  # The sources file as the mirror argument: without one mmdebstrap uses its built-in
  # default mirror, which a closed network cannot reach.
  mmdebstrap --quiet --variant=minbase --include="$includes" --aptopt="$aptopt" \
    "$suite" "$dest" "$sources"
}

# Build or unpack the rootfs into WORK/rootfs.
make_rootfs() {
  local work=$1 cache=${DLSTATION_TARGET_CACHE:-$repo/.target/cache} sources key tarball
  if [ "$cache" = off ]; then
    build_rootfs "$work/rootfs"
    return
  fi
  sources=${DLSTATION_TARGET_SOURCES:-$(host_sources)}
  host_aptopts >"$work/apt-host.conf"
  key=$(cache_key "$sources" "$work/apt-host.conf")
  tarball=$cache/rootfs-$suite-$key.tar
  if [ -s "$tarball" ]; then
    log "reusing cached rootfs $tarball"
    mkdir -p "$work/rootfs"
    tar -C "$work/rootfs" --numeric-owner -xpf "$tarball"
    return
  fi
  build_rootfs "$work/rootfs"
  mkdir -p "$cache"
  rm -f "$cache"/rootfs-"$suite"-*.tar # one tarball is enough
  tar -C "$work/rootfs" --numeric-owner -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
}

# Make the rootfs a host Ansible can reach: a user with key-only SSH and sudo.
prepare_rootfs() {
  local work=$1 root=$1/rootfs
  # Packages must not start services in a chroot; sshd is started by us.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  echo "$target_hostname" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost\n' \
    "$target_hostname" >"$root/etc/hosts"
  # Name the controller's sources as a Debian cloud image names its own.
  for f in "$root"/etc/apt/sources.list.d/0000*.sources; do
    [ -e "$f" ] && mv "$f" "$root/etc/apt/sources.list.d/debian.sources"
  done
  rm -f "$root/etc/resolv.conf"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"

  [ -f "$work/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "dlstation-target" \
    -f "$work/id_ed25519"
  if ! chroot "$root" id "$target_user" >/dev/null 2>&1; then
    chroot "$root" useradd --create-home --shell /bin/bash "$target_user"
  fi
  # '*' (not '!'): no password can match, yet the account is not "locked" for sshd.
  chroot "$root" usermod -p '*' "$target_user"
  install -d -m 0700 "$root/home/$target_user/.ssh"
  install -m 0600 "$work/id_ed25519.pub" "$root/home/$target_user/.ssh/authorized_keys"
  chroot "$root" chown -R "$target_user:$target_user" "/home/$target_user/.ssh"
  echo "$target_user ALL=(ALL) NOPASSWD:ALL" >"$root/etc/sudoers.d/$target_user"
  chmod 0440 "$root/etc/sudoers.d/$target_user"
  cat >"$root/etc/ssh/sshd_config.d/dlstation-target.conf" <<'EOF'
# Key-only access for the Ansible user.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
EOF
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs as PID 1 of the new namespaces (called back through `target.sh init`).
ns_init() {
  local root=$1 port=$2 tmp=$3 n
  hostname "$target_hostname"
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro sysfs "$root/sys"
  mount -t tmpfs -o mode=0755,size=16m tmpfs "$root/dev"
  for n in null zero full random urandom tty; do
    touch "$root/dev/$n"
    mount --bind "/dev/$n" "$root/dev/$n"
  done
  mkdir -p "$root/dev/pts" "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
  ln -s pts/ptmx "$root/dev/ptmx"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  mkdir -p "$root/run/sshd" "$root/run/lock"
  chmod 1777 "$root/run/lock"
  # /tmp on disk, not in memory: pip unpacks wheels of hundreds of MB there.
  mount --bind "$tmp" "$root/tmp"
  exec chroot "$root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1
}

ssh_opts() {
  local work=$1
  echo -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=5 -i "$work/id_ed25519" -p "$(cat "$work/port")"
}

target_ssh() {
  local work=$1
  shift
  # shellcheck disable=SC2046
  ssh $(ssh_opts "$work") "$target_user@127.0.0.1" "$@"
}

write_access_files() {
  local work=$1 port
  port=$(cat "$work/port")
  # An inventory directory, so the repository's group_vars apply to the target too.
  mkdir -p "$work/inventory"
  ln -sfn "$repo/inventory/group_vars" "$work/inventory/group_vars"
  # testinfra's ansible backend ignores ansible.cfg's host-key setting: say it here.
  cat >"$work/inventory/hosts.ini" <<EOF
[workstations]
$target_hostname ansible_host=127.0.0.1 ansible_port=$port ansible_user=$target_user ansible_ssh_private_key_file=$work/id_ed25519 ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'
EOF
  cat >"$work/ssh-config" <<EOF
Host $target_hostname
  HostName 127.0.0.1
  Port $port
  User $target_user
  IdentityFile $work/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
EOF
}

target_up() {
  local work=$1 port pid nspid i
  mkdir -p "$work"
  work=$(cd "$work" && pwd)
  [ ! -e "$work/unshare.pid" ] || die "$work already has a running target; run: $0 down $work"
  [ -d "$work/rootfs/etc" ] || make_rootfs "$work"
  prepare_rootfs "$work"
  mkdir -p "$work/tmp"
  chmod 1777 "$work/tmp"
  port=$(free_port)
  echo "$port" >"$work/port"
  log "starting sshd on 127.0.0.1:$port in new mount/pid/uts/ipc namespaces"
  setsid unshare --mount --pid --uts --ipc --fork --propagation private -- \
    "$here/target.sh" init "$work/rootfs" "$port" "$work/tmp" \
    </dev/null >"$work/sshd.log" 2>&1 &
  pid=$!
  echo "$pid" >"$work/unshare.pid"
  for i in $(seq 1 100); do
    nspid=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
    [ -n "$nspid" ] && break
    sleep 0.1
  done
  [ -n "${nspid:-}" ] || die "the namespace did not start; see $work/sshd.log"
  echo "${nspid%% *}" >"$work/ns-init.pid"
  write_access_files "$work"
  for i in $(seq 1 100); do
    if target_ssh "$work" true 2>/dev/null; then
      log "target up: ssh -F $work/ssh-config $target_hostname"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$work/sshd.log" >&2 || true
  die "sshd on the target did not answer"
}

# Processes that still belong to the target: their root is inside its rootfs, or they
# hold its key (ssh connection masters the controller left behind).
leftover_processes() {
  local work=$1 p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    if [[ $r == "$work/rootfs"* ]]; then
      echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
    elif tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$work/id_ed25519"; then
      echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"
    fi
  done
}

leftover_mounts() {
  local work=$1
  awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo
}

target_down() {
  local work=$1 pid nspid i left
  work=$(cd "$work" && pwd)
  nspid=$(cat "$work/ns-init.pid" 2>/dev/null || true)
  pid=$(cat "$work/unshare.pid" 2>/dev/null || true)
  # Ending the namespace's PID 1 ends every process in it; its mounts go with it.
  [ -z "$nspid" ] || kill -KILL "$nspid" 2>/dev/null || true
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    left=$(leftover_processes "$work")
    [ -z "$left" ] && break
    sleep 0.2
  done
  rm -f "$work/unshare.pid" "$work/ns-init.pid"
  left=$(leftover_processes "$work")
  [ -z "$left" ] || die "processes left running after teardown:
$left"
  left=$(leftover_mounts "$work")
  [ -z "$left" ] || die "mounts left after teardown:
$left"
  log "target down: no process and no mount left under $work"
}

cmd=${1:-}
case "$cmd" in
up) target_up "${2:?usage: target.sh up WORK}" ;;
down) target_down "${2:?usage: target.sh down WORK}" ;;
ssh)
  work=${2:?usage: target.sh ssh WORK CMD...}
  shift 2
  target_ssh "$work" "$@"
  ;;
build) build_rootfs "${2:?usage: target.sh build DIR}" ;;
init) ns_init "$2" "$3" "$4" ;;
*) die "usage: target.sh up|down|ssh|build ..." ;;
esac
