#!/usr/bin/env bash
# A fresh, isolated Debian or Ubuntu host for the end-to-end proof.
#
#   target.sh up WORK     build (or reuse a cached) rootfs, start it as its own host,
#                         write WORK/inventory/ (Ansible) and WORK/ssh-config (ssh://)
#   target.sh down WORK   end the host and check that nothing is left mounted or running
#   target.sh ssh WORK CMD...   run a command on the target as the Ansible user
#   target.sh build DIR   only build a rootfs into DIR (no cache); used by the bench
#   target.sh releases    list the releases it can build
#
# The host is a chroot with its own mount, pid, uts and ipc namespaces; sshd is its
# PID 1 and listens on a free loopback port. The network namespace is shared so apt and
# pip inside reach the archives the same way the controller does.
#
# Environment:
#   DLSTATION_TARGET_RELEASE  debian-12 (default), debian-13, ubuntu-22.04, ubuntu-24.04
#                             or ubuntu-26.04
#   DLSTATION_UBUNTU_MIRROR   the Ubuntu archive's URL (the ubuntu-* releases need it; it
#                             is passed in, never written into a file of the repository)
#   DLSTATION_UBUNTU_KEYRING  the Ubuntu archive keyring (default: the ubuntu-keyring
#                             package's file, else that package fetched from Debian 13)
#   DLSTATION_TARGET_SOURCES  an apt sources file to build from instead (Debian releases)
#   DLSTATION_TARGET_CACHE    directory for cached rootfs tarballs ("off" disables;
#                             default: <repo>/.target/cache)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
release=${DLSTATION_TARGET_RELEASE:-debian-12}
target_user=dlops
target_hostname=dlstation-target
# What a bare cloud image has, and no more: Ansible needs python3 (and, since
# ansible-core 2.19, python3-packaging for its pip module), sudo and sshd; apt is
# named because Ubuntu gives it Priority: important, which minbase leaves out.
includes=apt,python3,python3-packaging,sudo,openssh-server
# Ubuntu's components: universe holds some of the roles' packages; restricted holds
# the NVIDIA driver; a cloud image enables both.
ubuntu_components="main restricted universe"

log() { printf '[target] %s\n' "$*" >&2; }
die() {
  printf '[target] error: %s\n' "$*" >&2
  exit 1
}

die_usage() {
  die "DLSTATION_TARGET_RELEASE is '$release'; choose one of: $(releases | tr '\n' ' ')"
}

# The releases, and their suites (checked against each archive's dists/<suite>/Release:
# its Version field).
releases() {
  printf '%s\n' debian-12 debian-13 ubuntu-22.04 ubuntu-24.04 ubuntu-26.04
}
# Sets distro and suite for $release (only the commands that build need them:
# a target of any release can be reached and torn down).
resolve_release() {
  case "$release" in
  debian-12) distro=debian suite=bookworm ;;
  debian-13) distro=debian suite=trixie ;;
  ubuntu-22.04) distro=ubuntu suite=jammy ;;
  ubuntu-24.04) distro=ubuntu suite=noble ;;
  ubuntu-26.04) distro=ubuntu suite=resolute ;;
  *) die_usage ;;
  esac
}

# The controller's own Debian apt sources (a deb822 file or a one-line-style list),
# written for the target's suite (the same mirror, another release) as BASE.sources or
# BASE.list; prints that file's path.
debian_sources() {
  local base=$1 f host_suite ext
  host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list; do
    # Only enabled files that name Debian's suite: other vendors' lists are not ours.
    if [ -n "$host_suite" ] && [ -s "$f" ] && grep -qE "^[^#]*\b${host_suite}\b" "$f" &&
      grep -qE '^[^#]*debian' "$f"; then
      ext=list
      [[ $f != *.sources ]] || ext=sources
      sed -E "s/\b${host_suite}(-updates|-security)?\b/${suite}\1/g" "$f" >"$base.$ext"
      echo "$base.$ext"
      return 0
    fi
  done
  die "no apt sources for this machine's Debian release found in /etc/apt; \
point DLSTATION_TARGET_SOURCES at a sources file for Debian ${suite}"
}

# Ubuntu's archive keyring, as a file on the controller.
ubuntu_keyring() {
  local dir=$1 keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  if [ -n "${DLSTATION_UBUNTU_KEYRING:-}" ]; then
    [ -s "$DLSTATION_UBUNTU_KEYRING" ] || die "DLSTATION_UBUNTU_KEYRING: no file at $DLSTATION_UBUNTU_KEYRING"
    echo "$DLSTATION_UBUNTU_KEYRING"
  elif [ -s "$keyring" ]; then
    echo "$keyring" # the ubuntu-keyring package (Debian 13, Ubuntu)
  else
    # Debian 12 does not package it; Debian 13 does: fetch that package through apt
    # (checked against Debian's archive key, as an install would be) and unpack its file.
    local suite=trixie
    local sources
    mkdir -p "$dir/keyring-apt/lists/partial" "$dir/keyring-apt/archives/partial"
    sources=$(debian_sources "$dir/keyring-apt/debian")
    local opts=(-c "$dir/apt-host.conf" -o "Dir::Etc::SourceList=$sources"
      -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$dir/keyring-apt/lists"
      -o "Dir::Cache=$dir/keyring-apt" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    apt-get -qq "${opts[@]}" update >&2
    (cd "$dir/keyring-apt" && apt-get -qq "${opts[@]}" download ubuntu-keyring >&2)
    dpkg-deb -x "$dir"/keyring-apt/ubuntu-keyring_*.deb "$dir/keyring-apt/root"
    [ -s "$dir/keyring-apt/root$keyring" ] || die "the ubuntu-keyring package has no $keyring"
    echo "$dir/keyring-apt/root$keyring"
  fi
}

# The apt sources the target is built from, written into DIR; prints the file's path.
target_sources() {
  local dir=$1 out=$1/target.sources
  if [ -n "${DLSTATION_TARGET_SOURCES:-}" ]; then
    echo "$DLSTATION_TARGET_SOURCES"
  elif [ "$distro" = debian ]; then
    debian_sources "$dir/target"
  else
    [ -n "${DLSTATION_UBUNTU_MIRROR:-}" ] ||
      die "$release needs DLSTATION_UBUNTU_MIRROR, the URL of an Ubuntu archive (a mirror of it, or Ubuntu's own)"
    # No Signed-By: the build checks with --keyring; the target gets it in prepare_rootfs.
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates %s-security\nComponents: %s\n' \
      "${DLSTATION_UBUNTU_MIRROR%/}" "$suite" "$suite" "$suite" "$ubuntu_components" >"$out"
    echo "$out"
  fi
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
    echo "$release $suite $includes"
    mmdebstrap --version
    cat "$sources" "$aptopt"
    date -u +%F # the archive moves on: a day-old rootfs is rebuilt
  } | sha256sum | cut -c1-16
}

# Build a minbase rootfs into $1 with the controller's apt settings.
build_rootfs() {
  local dest=$1 dir sources aptopt keyring=()
  command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
  dir=$(dirname "$dest")
  sources=$(target_sources "$dir")
  aptopt=$dir/apt-host.conf
  host_aptopts >"$aptopt"
  [ "$distro" = debian ] || keyring=(--keyring="$(ubuntu_keyring "$dir")")
  log "mmdebstrap $release ($suite, minbase + $includes)"
  # The sources file as the mirror argument: without one mmdebstrap uses its built-in
  # default mirror, which a closed network cannot reach.
  mmdebstrap --quiet --variant=minbase --include="$includes" --aptopt="$aptopt" \
    "${keyring[@]}" "$suite" "$dest" "$sources"
  # The suite names are this script's; the release the archive served is the rootfs's.
  local got
  got=$(. "$dest/etc/os-release" && echo "${ID}-${VERSION_ID}")
  [ "$got" = "$release" ] || die "the archive's $suite is $got, not $release"
}

# Build or unpack the rootfs into WORK/rootfs.
make_rootfs() {
  local work=$1 cache=${DLSTATION_TARGET_CACHE:-$repo/.target/cache} sources key tarball
  if [ "$cache" = off ]; then
    build_rootfs "$work/rootfs"
    return
  fi
  sources=$(target_sources "$work")
  host_aptopts >"$work/apt-host.conf"
  key=$(cache_key "$sources" "$work/apt-host.conf")
  tarball=$cache/rootfs-$release-$key.tar
  if [ -s "$tarball" ]; then
    log "reusing cached rootfs $tarball"
    mkdir -p "$work/rootfs"
    tar -C "$work/rootfs" --numeric-owner -xpf "$tarball"
    return
  fi
  build_rootfs "$work/rootfs"
  mkdir -p "$cache"
  rm -f "$cache"/rootfs-"$release"-*.tar # one tarball per release is enough
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
  # Name the sources as a cloud image of the distribution names its own; Ubuntu's
  # name the keyring its ubuntu-keyring package installed.
  for f in "$root"/etc/apt/sources.list.d/0000*.sources; do
    [ -e "$f" ] || continue
    [ "$distro" = debian ] || grep -q '^Signed-By:' "$f" ||
      echo 'Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg' >>"$f"
    mv "$f" "$root/etc/apt/sources.list.d/$distro.sources"
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
up | build) resolve_release ;;
esac
case "$cmd" in
up) target_up "${2:?usage: target.sh up WORK}" ;;
down) target_down "${2:?usage: target.sh down WORK}" ;;
ssh)
  work=${2:?usage: target.sh ssh WORK CMD...}
  shift 2
  target_ssh "$work" "$@"
  ;;
build) build_rootfs "${2:?usage: target.sh build DIR}" ;;
releases) releases ;;
init) ns_init "$2" "$3" "$4" ;;
*) die "usage: target.sh up|down|ssh|build|releases ..." ;;
esac
