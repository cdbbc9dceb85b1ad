#!/usr/bin/env bash
# Proves that the README's two commands work on a fresh Debian 12 machine, which CI's own
# machine (used before, full of packages) cannot show. It makes a bare Debian 12 root with
# mmdebstrap (minbase, plus what a bare machine has: ca-certificates and git), puts a clean
# clone of the commit under test into it and, as a new user would, runs ./run.sh until
# /healthz answers "ok", then ./test.sh. Everything those commands install is installed fresh;
# only the bare root is cached between runs.
#
# Usage (as root): tests/fresh-machine/check-fresh-machine.sh [CTEST ARGUMENTS…]
#   GOOP_FRESH_CACHE  where the bare root's tarball is kept (default /var/cache/goop-fresh-machine)
#   GOOP_FRESH_KEEP=1 leaves the root in place afterwards, for a look inside
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "fresh-machine: $*"; }
die() { echo "fresh-machine: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it builds a root with mmdebstrap and chroots into it)"
for tool in mmdebstrap git unshare chroot findmnt; do
    command -v "$tool" >/dev/null || die "$tool is missing (run ./install-deps.sh)"
done

# Everything below runs in a mount namespace of its own: whatever it mounts is gone once it
# ends, however it ends, and the host's /dev is never mounted over through a bind.
if [ -z "${GOOP_FRESH_IN_NAMESPACE:-}" ]; then
    GOOP_FRESH_IN_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi

commit=$(git -C "$repo" rev-parse HEAD)
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] \
    || say "note: uncommitted changes in $repo are not part of the check (it tests $commit)"
started=$SECONDS

# ------------------------------------------------------------------ the bare root (cached)
# The apt sources are the host's own files, so that no mirror is named here.
host_sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$file" ] && host_sources+=("$file")
done
[ ${#host_sources[@]} -gt 0 ] || die "the host has no apt sources to give the root"

cache=${GOOP_FRESH_CACHE:-/var/cache/goop-fresh-machine}
tarball=$cache/bookworm-minbase.tar
mkdir -p "$cache"
if [ -z "$(find "$tarball" -mtime -7 2>/dev/null)" ]; then
    say "building the bare Debian 12 root (mmdebstrap, minbase)"
    mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates,git \
        bookworm "$tarball.part" "${host_sources[@]}"
    mv "$tarball.part" "$tarball"
fi

root=$(mktemp -d /var/tmp/goop-fresh-machine.XXXXXX)
mounts=()

# Stops every process whose root is ours (services the packages started, a server left
# running), by process id, then unmounts, then removes the root.
cleanup() {
    local status=$? pid pids=() round
    for round in TERM TERM TERM KILL; do
        pids=()
        for pid in /proc/[0-9]*; do
            [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && pids+=("${pid#/proc/}")
        done
        [ ${#pids[@]} -eq 0 ] && break
        kill -s "$round" "${pids[@]}" 2>/dev/null || true
        sleep 2
    done
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount --lazy "${mounts[i]}" || true
    done
    if findmnt --list --noheadings --output TARGET | grep -q "^$root"; then
        echo "fresh-machine: something is still mounted under $root; left in place" >&2
    elif [ "${GOOP_FRESH_KEEP:-0}" = 1 ]; then
        say "root kept at $root"
    else
        rm -rf --one-file-system "$root"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount_in_root() { # mount_in_root TARGET MOUNT-ARGUMENTS…
    local target=$root$1
    shift
    mount "$@" "$target"
    mounts+=("$target")
}

tar -C "$root" -xf "$tarball"
rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
for file in "${host_sources[@]}"; do
    cp "$file" "$root$file"
done
# A machine behind a TLS-intercepting proxy trusts that proxy's CA: the CA files, and nothing
# else of the host, go in. Name resolution and localhost as any machine has them.
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

mount_in_root /proc -t proc proc
mount_in_root /sys -t sysfs sysfs
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
mount_in_root /dev/shm -t tmpfs -o mode=1777 tmpfs

# "${in_root[@]}" 'COMMAND': a shell in the root with the environment a new user (root) has.
in_root=(chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && in_root+=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
in_root+=(/bin/bash -c)
"${in_root[@]}" 'update-ca-certificates >/dev/null'

# A clean clone of the commit under test, with the shared material beside it as in CI's layout
# (the Go reference that tst_gocompat compares against).
git clone --quiet --no-local "$repo" "$root/root/goop-rendezvous"
git -C "$root/root/goop-rendezvous" checkout --quiet --detach "$commit"
[ -d "$repo/../shared/reference" ] && mkdir -p "$root/root/shared" \
    && cp -r "$repo/../shared/reference" "$root/root/shared/"
say "root ready in $((SECONDS - started)) s: $root, commit $commit"

# ------------------------------------------------------------------ ./run.sh, then /healthz
if (exec 3<>/dev/tcp/127.0.0.1/8787) 2>/dev/null; then
    die "something on this machine already listens on 127.0.0.1:8787, where ./run.sh starts the server"
fi
phase=$SECONDS
say "./run.sh"
"${in_root[@]}" 'cd /root/goop-rendezvous && exec ./run.sh' >"$root/run.log" 2>&1 &
server=$! # chroot, env, bash and run.sh each exec the next: this is the server's process id
answer=""
while kill -0 "$server" 2>/dev/null && [ $((SECONDS - phase)) -lt 2400 ]; do
    answer=$("${in_root[@]}" 'curl -fsS --max-time 5 http://localhost:8787/healthz' 2>/dev/null) && break
    sleep 3
done
if [ "$answer" != ok ]; then
    tail -40 "$root/run.log" >&2
    die "./run.sh: /healthz did not answer ok (answer: '${answer}')"
fi
say "./run.sh: /healthz answers ok after $((SECONDS - phase)) s"
kill -TERM "$server"
wait "$server" || die "./run.sh: the server exited with $? on SIGTERM"

# ------------------------------------------------------------------ ./test.sh
phase=$SECONDS
say "./test.sh $*"
arguments=$(printf ' %q' "$@")
"${in_root[@]}" "cd /root/goop-rendezvous && ./test.sh$arguments" || die "./test.sh failed"
say "./test.sh passed in $((SECONDS - phase)) s; the whole check took $((SECONDS - started)) s"
