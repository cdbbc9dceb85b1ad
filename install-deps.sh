#!/usr/bin/env bash
# Installs what building and testing goop-rendezvous needs on Debian 12, and nothing when it
# is all there already. Run as root, or with sudo available. tests/fresh-machine proves on a
# bare Debian 12 root that this list is whole.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
    # build: Qt 6.4 and what its CMake configs pull in (HttpServer needs WebSockets, Charts
    # needs OpenGL, Gui looks for XKB), the server's optional libraries, CPack's tools
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev
    libqt6opengl6-dev libgl-dev libxkbcommon-dev
    libhiredis-dev libsystemd-dev liburing-dev libssl-dev
    # tests: browser, desktop screenshots, clustering, packaging, the Go references
    chromium xvfb xauth imagemagick
    redis-server caddy nginx golang-go golang-github-gorilla-websocket-dev
    dpkg-dev lintian rpm appstream desktop-file-utils prometheus systemd
    # benchmarks, the WebSocket interoperability test, and the fresh-machine check (a bare
    # Debian 12 root)
    wrk curl python3 python3-websockets mmdebstrap
    # the sanitizer and fuzzing job (tests/sanitizers): clang with its sanitizer runtimes and
    # libFuzzer
    clang libclang-rt-14-dev
)

# Node.js: the machine's own when it has one (Debian's npm would conflict with it).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "install-deps: ${#missing[@]} Debian packages are missing; run this as root (or install sudo first: apt-get install sudo)" >&2
            exit 1
        }
        sudo="sudo"
    fi
    echo "install-deps: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core drives Debian's Chromium; it must never download a browser of its own.
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "install-deps: installing the browser test's npm packages"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent)
fi

# js-libp2p, pinned, for the libp2p interoperability test (tests/libp2p/js).
# Installed again whenever package.json changed since the last install (npm writes
# node_modules/.package-lock.json on every install).
if [ -f tests/libp2p/js/package.json ] &&
    [ tests/libp2p/js/package.json -nt tests/libp2p/js/node_modules/.package-lock.json ]; then
    echo "install-deps: installing the libp2p test's npm packages"
    (cd tests/libp2p/js && npm install --no-audit --no-fund --silent)
fi
