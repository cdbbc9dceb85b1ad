#!/usr/bin/env python3
"""Per-client limits behind the proxies of the deployment guide, configured by the files in
docs/ (Caddyfile.example's first site, nginx.conf.example), with the server trusting them
(--trusted-proxy 127.0.0.1). Clients are distinct loopback source addresses. Through each
proxy: each client has its own publish bucket and its own stream places; a client that forges
X-Forwarded-For, Forwarded and X-Real-IP is still itself (it drains nobody else's bucket); the
limit's log line names the client, not the proxy.

Usage: behind_proxies.py PATH-TO-goop-rendezvous
"""
import http.client
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from proxies import caddy_from_example, nginx_from_example, start_server, stop, wait_healthy  # noqa: E402

PEER = 0


def publish(port, client, headers=None):
    """POSTs an update of a fresh peer from `client`; (status, Retry-After)."""
    global PEER
    PEER += 1
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(client, 0),
                                            timeout=5)
    connection.request("POST", "/publish", body=f'{{"type":"update","peerId":"p{PEER}"}}',
                       headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("Retry-After")


def open_stream(port, client):
    """Opens /events from `client`; (status, the socket to keep it open, the first body)."""
    stream = socket.create_connection(("127.0.0.1", port), timeout=5,
                                      source_address=(client, 0))
    stream.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(4096)
        if not chunk:
            break
        data += chunk
    status = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0
    length = re.search(rb"\r\nContent-Length: (\d+)\r\n", data, re.I)
    while length and len(data) < data.index(b"\r\n\r\n") + 4 + int(length.group(1)):
        chunk = stream.recv(4096)
        if not chunk:
            break
        data += chunk
    return status, stream, data


def scenario(proxy_port):
    failures = []

    def expect(what, got, wanted):
        if got != wanted:
            failures.append(f"{what}: got {got!r}, wanted {wanted!r}")

    a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
    # Three publishes per client (--address-publish-burst 3), next to nothing after.
    expect("client A's first publishes", [publish(proxy_port, a)[0] for _ in range(3)],
           [204] * 3)
    status, retry = publish(proxy_port, a)
    expect("client A's fourth publish", status, 429)
    if status == 429 and not (retry or "").isdigit():
        failures.append(f"client A's 429 has no Retry-After: {retry!r}")
    expect("client B, through the same proxy", publish(proxy_port, b)[0], 204)
    # C claims to be B in every header there is: it spends its own bucket, not B's.
    forged = {"X-Forwarded-For": b, "Forwarded": f"for={b}", "X-Real-IP": b}
    expect("client C forging B", [publish(proxy_port, c, forged)[0] for _ in range(4)],
           [204, 204, 204, 429])
    expect("client B after C's forgery", [publish(proxy_port, b)[0] for _ in range(2)],
           [204, 204])
    # One stream place per client (--max-streams-per-address 1).
    held = []
    status, stream, _ = open_stream(proxy_port, a)
    held.append(stream)
    expect("client A's stream", status, 200)
    status, stream, head = open_stream(proxy_port, a)
    held.append(stream)
    expect("client A's second stream", status, 429)
    if status == 429 and b"too many SSE connections from 127.0.0.2 (1)" not in head:
        failures.append("the 429 does not name client A")
    status, stream, _ = open_stream(proxy_port, b)
    held.append(stream)
    expect("client B's stream", status, 200)
    for stream in held:
        stream.close()
    return failures


def main():
    binary = sys.argv[1]
    results = []
    for name, proxy in (("caddy", caddy_from_example), ("nginx", nginx_from_example)):
        server, port = start_server(binary, "--trusted-proxy", "127.0.0.1",
                                    "--address-publish-rate", "0.01",
                                    "--address-publish-burst", "3", "--peer-publish-rate", "0",
                                    "--max-streams-per-address", "1")
        try:
            with proxy(port) as proxy_port:
                if proxy_port is None:
                    results.append((name, [f"{name} is missing (./install-deps.sh)"]))
                    continue
                if not wait_healthy(lambda: http.client.HTTPConnection("127.0.0.1", proxy_port,
                                                                      timeout=2)):
                    results.append((name, [f"{name} did not come up"]))
                    continue
                failures = scenario(proxy_port)
        finally:
            stop(server)
        log = "".join(server.log)
        # One line per limit per 10 s: the first refusal's (client A's) is the one written.
        if "limit address_publish: 1 refused since the last report, the latest from 127.0.0.2" \
                not in log:
            failures.append("no limit log line names client A")
        if "the latest from 127.0.0.1" in log:
            failures.append("a limit log line names the proxy")
        results.append((name, failures))
    failed = 0
    for name, failures in results:
        for failure in failures:
            print(f"FAIL: through {name}: {failure}")
        failed += bool(failures)
        if not failures:
            print(f"PASS: through {name}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
