#!/bin/sh
# Produces docs/monitor.png: the real server with about 20 realistic peers joining over a few
# seconds (so the chart has a shape), goop-monitor following it in a virtual X screen, and a
# screenshot of that screen.
#   tests/monitor/screenshot.sh [BUILD_DIR]        (default: build-monitor)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$here/build-monitor}" && pwd)
out="$here/docs/monitor.png"
port=18787
base="http://127.0.0.1:$port"
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$build/server/goop-rendezvous" -addr "127.0.0.1:$port" --peer-ttl 10m 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

publish() { # type peerId label extra-json-members
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"type\":\"$1\",\"peerId\":\"$2\",\"content\":\"$3\"${4:+,$4}}" "$base/publish"
}

peers='12D3KooWGzBXFBTG5rPWiNmLq7yWbUzt3Yq8jSTP1jWZk1pAmq4D|alice @ home office|"email":"alice@example.org","goopClientVersion":"2.4.1"
12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE|kitchen-laptop|"goopClientVersion":"2.4.1","addrs":["/ip4/192.168.1.23/tcp/4001","/ip6/fd00::23/tcp/4001"]
12D3KooWLmRJPbE7DxjqGAuNnvSwZdwu2hmZ57ZRTfgEUtdUzh4c|garage-pi|"goopClientVersion":"2.3.0"
12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp|bob (travel)|"email":"bob@example.net","avatarHash":"b3f1c0a9"
12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X|studio-mac|"goopClientVersion":"2.4.1","addrs":["/ip4/10.0.4.2/udp/4001/quic-v1"]
12D3KooWSQkVQoZ2rWBB1X5XGfP3b4RgRBrXbKZGmmA1N4Dk8fZp|carol-phone|"goopClientVersion":"2.4.0"
12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq|nas-basement|"addrs":["/ip4/192.168.1.10/tcp/4001"]
12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo|dave-desktop|"email":"dave@example.org"
12D3KooWCXrK5ZLs7yW5mTRpPHvbrbMZpiGFnsrZvhXhhh6HcAbC|lab-node-01|"goopClientVersion":"2.4.1"
12D3KooWHmJtvsCy5dgxPuUXkXyZsMnSf5FsqoVDRoPYuWR6Wcug|lab-node-02|"goopClientVersion":"2.4.1"
12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN|lab-node-03|"goopClientVersion":"2.4.1"
12D3KooWN9Zh1xgsgY1h4nRzSZXdGkV2bC2cgo5oFJRJFvGHUg8k|erin-thinkpad|"email":"erin@example.com","avatarHash":"77d2e4"
12D3KooWMtV4c8hPKVr8s8c5zMYS2yYLQZ8yf6QY3vw8xXQE3ZwA|frank-tablet|
12D3KooWA1Sn7kfkuzdKc1ZmEuZWtH2NHGhxNqM6NVd2o9gU9Ab5|relay-eu-west|"addrs":["/dns4/relay.example.org/tcp/443/wss"],"goopClientVersion":"2.4.1"
12D3KooWB5zXr9EgpyPsUxbCh5a3FxM8GRtyLbc3Ax8mD8kqH7uZ|relay-us-east|"addrs":["/dns4/relay2.example.org/tcp/443/wss"],"goopClientVersion":"2.4.1"
12D3KooWKbZ1GEg2uMC3bYjJNcUXHnmTq5fhG9eB4cYRnvsN5xQk|grace-workstation|"email":"grace@example.org"
12D3KooWFxL6L9Hn8qTAnA7s4vQPWWtpPD2nqDJt5yF5kt3gs9Vz|heidi-laptop|"goopClientVersion":"2.2.7"
12D3KooWGRUVh2ahAr8KVxxn9XvK2sTpGdYe3AUhMU2aPCu5cfY3|ivan-rpi-cluster|"addrs":["/ip4/10.9.0.7/tcp/4001"]
12D3KooWRq4tRRuskZ4RxR6WXKbLHS5kZYvYhbrkdrQyBvNAa8Zq|judy (away)|"email":"judy@example.net"
12D3KooWC2nNzxTQHg6wmiB2F8wAhKT8mKMz7eGxVwL1N6KcJFHM|build-agent-7|"goopClientVersion":"2.4.1"'

# A few peers are there before the monitor starts; the rest join, one updates, one leaves.
echo "$peers" | head -6 | while IFS='|' read -r id label extra; do publish online "$id" "$label" "$extra"; done

export XDG_CONFIG_HOME="$work/config" # a clean, throw-away QSettings
xvfb-run -a -s "-screen 0 1280x800x24" sh -c "
    '$build/monitor/goop-monitor' --server '$base' &
    monitor=\$!
    sleep 2
    echo \"\$0\" | tail -n +7 | while IFS='|' read -r id label extra; do
        curl -sf -o /dev/null -d \"{\\\"type\\\":\\\"online\\\",\\\"peerId\\\":\\\"\$id\\\",\\\"content\\\":\\\"\$label\\\"\${extra:+,\$extra}}\" '$base/publish'
        sleep 0.6
    done
    curl -sf -o /dev/null -d '{\"type\":\"update\",\"peerId\":\"12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE\",\"content\":\"kitchen-laptop\",\"goopClientVersion\":\"2.4.1\",\"addrs\":[\"/ip4/192.168.1.23/tcp/4001\",\"/ip6/fd00::23/tcp/4001\"]}' '$base/publish'
    curl -sf -o /dev/null -d '{\"type\":\"offline\",\"peerId\":\"12D3KooWMtV4c8hPKVr8s8c5zMYS2yYLQZ8yf6QY3vw8xXQE3ZwA\"}' '$base/publish'
    sleep 3
    import -window root '$out'
    kill \$monitor
" "$peers"
echo "wrote $out"
