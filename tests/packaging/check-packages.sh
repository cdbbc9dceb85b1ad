#!/usr/bin/env bash
# Builds the Linux packages from an existing build tree with cpack and checks them the way an
# operator meets them: file lists, control data, maintainer scripts, the unit (systemd-analyze),
# the sysusers file, the unpacked binary, man pages and lintian (no errors).
# Usage: check-packages.sh BUILD_DIR VERSION WITH_MONITOR(0|1)
set -euo pipefail

build=$1
version=$2
with_monitor=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/goop-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

# has_tool TOOL: whether an optional check's tool is here; under GOOP_REQUIRE_ALL=1 (./test.sh,
# after ./install-deps.sh) a missing one fails instead of skipping its check.
has_tool() {
    command -v "$1" >/dev/null && return 0
    if [ "${GOOP_REQUIRE_ALL:-0}" = 1 ]; then
        fail "$1 is missing (run ./install-deps.sh)"
    else
        echo "skipped: $1 is missing"
    fi
    return 1
}

# Compares a sorted list of paths with the expected one and shows the difference.
expect_files() {
    local what=$1 actual=$2 expected=$3
    if diff -u <(sort <<<"$expected") <(sort <<<"$actual") >"$work/diff"; then
        pass "$what has exactly the expected files"
    else
        fail "$what files differ from the expected list:"
        cat "$work/diff" >&2
    fi
}

run_cpack() {
    local generator=$1 out=$2
    if ! cpack --config "$build/CPackConfig.cmake" -G "$generator" -B "$out" >"$out.log" 2>&1; then
        cat "$out.log" >&2
        echo "FAIL: cpack -G $generator" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------------------------- .deb
run_cpack DEB "$work/deb"
arch=$(dpkg --print-architecture)
deb="$work/deb/goop-rendezvous_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -l "$work/deb" >&2; echo "FAIL: $deb was not built" >&2; exit 1; }

field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$deb" Package)" = goop-rendezvous ] || fail "Package is $(field "$deb" Package)"
[ "$(field "$deb" Version)" = "$version" ] || fail "Version is $(field "$deb" Version)"
[ "$(field "$deb" Architecture)" = "$arch" ] || fail "Architecture is $(field "$deb" Architecture)"
[ "$(field "$deb" Section)" = net ] || fail "Section is $(field "$deb" Section)"
[[ "$(field "$deb" Maintainer)" =~ ^.+\ \<.+@.+\>$ ]] || fail "Maintainer is $(field "$deb" Maintainer)"
# dpkg-shlibdeps found the libraries the binary links (Qt, hiredis, liburing), and nothing from Qt Gui or Widgets.
depends=$(field "$deb" Depends)
for library in libqt6core6 libqt6network6 libqt6httpserver6 libhiredis0.14 liburing2 libc6; do
    [[ "$depends" == *"$library"* ]] || fail "Depends lacks $library: $depends"
done
[[ "$depends" != *libqt6gui6* && "$depends" != *libqt6widgets6* ]] || fail "the daemon depends on Qt Gui/Widgets: $depends"
[ "$(field "$deb" Description | head -1)" = "Rendezvous server for Goop2 peer-to-peer networks" ] \
    || fail "Description synopsis is $(field "$deb" Description | head -1)"
pass "control data: $(field "$deb" Package) $(field "$deb" Version) $(field "$deb" Architecture)"

listing=$(dpkg-deb -c "$deb")
expect_files "goop-rendezvous.deb" "$(awk '$1 !~ /^d/ { print $6 }' <<<"$listing")" "\
./usr/bin/goop-rendezvous
./usr/lib/systemd/system/goop-rendezvous.service
./usr/lib/sysusers.d/goop-rendezvous.conf
./usr/share/doc/goop-rendezvous/API.md
./usr/share/doc/goop-rendezvous/Caddyfile.example
./usr/share/doc/goop-rendezvous/DEPLOYMENT.md
./usr/share/doc/goop-rendezvous/changelog.gz
./usr/share/doc/goop-rendezvous/copyright
./usr/share/doc/goop-rendezvous/nginx.conf.example
./usr/share/man/man1/goop-rendezvous.1.gz"
grep -q '^-rwxr-xr-x root/root .* \./usr/bin/goop-rendezvous$' <<<"$listing" \
    || fail "usr/bin/goop-rendezvous is not root-owned mode 0755"
if awk '{ print $2 }' <<<"$listing" | grep -qv '^root/root$'; then
    fail "files not owned by root/root"
fi

mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
for script in postinst prerm postrm; do
    if [ -x "$work/control/$script" ] && sh -n "$work/control/$script"; then
        pass "$script is an executable, valid shell script"
    else
        fail "$script is missing, not executable or not valid sh"
    fi
done
grep -q 'systemd-sysusers goop-rendezvous.conf' "$work/control/postinst" || fail "postinst does not run systemd-sysusers"
grep -q 'daemon-reload' "$work/control/postinst" || fail "postinst does not reload systemd"
[ -f "$work/control/md5sums" ] || fail "no md5sums"

# Unpacked into a scratch root: the binary runs from there with the system's Qt.
root="$work/root"
dpkg-deb -x "$deb" "$root"
output=$("$root/usr/bin/goop-rendezvous" --version 2>&1) || fail "--version exited $?"
[ "$output" = "goop-rendezvous $version" ] || fail "--version printed: $output"
pass "$root/usr/bin/goop-rendezvous --version: $output"
file "$root/usr/bin/goop-rendezvous" 2>/dev/null | grep -q 'not stripped' && fail "the packaged binary is not stripped"

# The sysusers file creates goop, exactly as the postinst will (by name, searched under root).
mkdir -p "$root/etc"
if systemd-sysusers --root="$root" goop-rendezvous.conf >"$work/sysusers.log" 2>&1 \
        && grep -q '^goop:x:[0-9]*:[0-9]*:[^:]*:/:/usr/sbin/nologin$' "$root/etc/passwd" \
        && grep -q '^goop:x:' "$root/etc/group"; then
    pass "systemd-sysusers creates the system user and group goop"
else
    cat "$work/sysusers.log" "$root/etc/passwd" >&2 || true
    fail "systemd-sysusers did not create goop"
fi

# systemd-analyze verify checks every directive and that ExecStart= is executable, so the unit
# is verified with ExecStart pointing into the scratch root and man pages taken from there.
unit="$root/usr/lib/systemd/system/goop-rendezvous.service"
for directive in '^Type=notify$' '^WatchdogSec=' '^User=goop$' '^ExecStart=/usr/bin/goop-rendezvous$' \
        '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' '^PrivateTmp=yes$' '^ProtectHome=yes$' \
        '^CapabilityBoundingSet=$' '^LimitNOFILE=65536$' '^MemoryMax='; do
    grep -q "$directive" "$unit" || fail "the unit lacks $directive"
done
mkdir "$work/unit"
sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >"$work/unit/goop-rendezvous.service"
if MANPATH="$root/usr/share/man:" systemd-analyze verify "$work/unit/goop-rendezvous.service" \
        >"$work/verify.log" 2>&1 && [ ! -s "$work/verify.log" ]; then
    pass "systemd-analyze verify: clean"
else
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify reported problems"
fi
# Exposure 0-10 (shown) is 0-100 here: the unit scores 1.5; fail if hardening regresses past 2.
if systemd-analyze security --offline=true --threshold=20 "$work/unit/goop-rendezvous.service" \
        >"$work/security.log" 2>&1; then
    pass "systemd-analyze security: $(grep -o 'Overall exposure level.*' "$work/security.log")"
else
    grep 'Overall exposure level' "$work/security.log" >&2 || cat "$work/security.log" >&2
    fail "systemd-analyze security: exposure above 2.0"
fi

check_man() {
    local page=$1
    if MANWIDTH=80 MANROFFSEQ='' man --warnings -E UTF-8 -l "$page" >"$work/man.txt" 2>"$work/man.err" \
            && [ ! -s "$work/man.err" ] && grep -q '^NAME' "$work/man.txt"; then
        pass "$(basename "$page") renders without warnings"
    else
        cat "$work/man.err" >&2
        fail "$(basename "$page") does not render cleanly"
    fi
}
check_man "$root/usr/share/man/man1/goop-rendezvous.1.gz"

lint() {
    local package=$1
    # Warnings are reported, errors fail. lintian warns when run as root; that line is noise.
    if lintian --fail-on error --tag-display-limit 0 "$package" >"$work/lintian.log" 2>&1; then
        pass "lintian $(basename "$package"): no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"
    else
        fail "lintian $(basename "$package") reported errors"
    fi
    grep -E '^[EW]:' "$work/lintian.log" || true
}
lint "$deb"

if [ "$with_monitor" = 1 ]; then
    monitor_deb="$work/deb/goop-monitor_${version}_${arch}.deb"
    if [ -f "$monitor_deb" ]; then
        [ "$(field "$monitor_deb" Package)" = goop-monitor ] || fail "monitor Package is $(field "$monitor_deb" Package)"
        [[ "$(field "$monitor_deb" Depends)" == *libqt6widgets6* ]] || fail "goop-monitor does not depend on Qt Widgets"
        expect_files "goop-monitor.deb" "$(dpkg-deb -c "$monitor_deb" | awk '$1 !~ /^d/ { print $6 }')" "\
./usr/bin/goop-monitor
./usr/share/applications/org.goop.monitor.desktop
./usr/share/doc/goop-monitor/changelog.gz
./usr/share/doc/goop-monitor/copyright
./usr/share/icons/hicolor/scalable/apps/goop-monitor.svg
./usr/share/man/man1/goop-monitor.1.gz
./usr/share/metainfo/org.goop.monitor.metainfo.xml"
        monitor_root="$work/monitor-root"
        dpkg-deb -x "$monitor_deb" "$monitor_root"
        check_man "$monitor_root/usr/share/man/man1/goop-monitor.1.gz"
        if has_tool appstreamcli; then
            appstreamcli validate --no-net "$monitor_root/usr/share/metainfo/org.goop.monitor.metainfo.xml" \
                >"$work/appstream.log" 2>&1 || { cat "$work/appstream.log" >&2; fail "appstreamcli validate"; }
        fi
        if has_tool desktop-file-validate; then
            desktop-file-validate "$monitor_root/usr/share/applications/org.goop.monitor.desktop" \
                || fail "desktop-file-validate"
        fi
        lint "$monitor_deb"
    else
        fail "$monitor_deb was not built"
    fi
fi

# ---------------------------------------------------------------------------------- .rpm
if has_tool rpmbuild && has_tool rpm; then
    run_cpack RPM "$work/rpm"
    rpm_file=$(ls "$work"/rpm/goop-rendezvous-"$version"-*.rpm 2>/dev/null | head -1)
    if [ -n "$rpm_file" ]; then
        # rpmbuild adds /usr/lib/.build-id links for debuginfo lookups; they are its own.
        expect_files "goop-rendezvous.rpm" "$(rpm -qlp "$rpm_file" 2>/dev/null | grep -v '^/usr/lib/\.build-id')" "\
/usr/bin/goop-rendezvous
/usr/lib/systemd/system/goop-rendezvous.service
/usr/lib/sysusers.d/goop-rendezvous.conf
/usr/share/doc/goop-rendezvous
/usr/share/doc/goop-rendezvous/API.md
/usr/share/doc/goop-rendezvous/Caddyfile.example
/usr/share/doc/goop-rendezvous/DEPLOYMENT.md
/usr/share/doc/goop-rendezvous/changelog.gz
/usr/share/doc/goop-rendezvous/copyright
/usr/share/doc/goop-rendezvous/nginx.conf.example
/usr/share/man/man1/goop-rendezvous.1.gz"
        [ "$(rpm -qp --qf '%{NAME} %{VERSION}' "$rpm_file" 2>/dev/null)" = "goop-rendezvous $version" ] \
            || fail "rpm name/version: $(rpm -qp --qf '%{NAME} %{VERSION}' "$rpm_file" 2>/dev/null)"
        rpm -qp --requires "$rpm_file" 2>/dev/null | grep -q '^libQt6HttpServer.so.6' \
            || fail "the rpm does not require libQt6HttpServer"
        rpm -qp --scripts "$rpm_file" 2>/dev/null | grep -q 'systemd-sysusers goop-rendezvous.conf' \
            || fail "the rpm %post does not run systemd-sysusers"
        pass "rpm: $(basename "$rpm_file")"
    else
        fail "no goop-rendezvous rpm was built"
    fi
else
    echo "skip: rpmbuild is not installed, no .rpm checks"
fi

# ------------------------------------------------------------------------------- .tar.gz
run_cpack TGZ "$work/tgz"
tarball=$(ls "$work"/tgz/goop-rendezvous-"$version"-linux-*.tar.gz 2>/dev/null | head -1)
if [ -n "$tarball" ]; then
    tar_listing=$(tar tzf "$tarball")
    for path in bin/goop-rendezvous lib/systemd/system/goop-rendezvous.service \
            lib/sysusers.d/goop-rendezvous.conf share/man/man1/goop-rendezvous.1.gz; do
        grep -q "/$path\$" <<<"$tar_listing" || fail "the tarball lacks $path"
    done
    pass "tar.gz: $(basename "$tarball")"
else
    fail "no goop-rendezvous tarball was built"
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all packaging checks passed"
