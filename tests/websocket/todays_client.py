#!/usr/bin/env python3
"""Today's Goop² client, as PROTOCOL.md ("What a current client does") describes it, written
with a WebSocket implementation that is not ours (Python's `websockets`), against the real
server: it dials /ws first while it POSTs its `online`, retries a 425 after 250 ms for ever,
falls back to SSE and probes on any other refusal, publishes its heartbeats over the WebSocket
and drops nothing. It must end on the WebSocket, never fall back, and get every event.

A second run refuses it on purpose (--max-ws-per-address 1, the one place taken): it must fall
back to /events, probe, switch back to the WebSocket once the place is free, and still have
every event another peer published meanwhile. Its probe periods are shortened (0.3 s, then
every 0.5 s, where the client waits 3 s and 10 s). A third run goes through Caddy with TLS, as
the deployment guide puts the server (wss://, Caddy's own local CA trusted for the test), and
a fourth through nginx configured by docs/nginx.conf.example (moved to a loopback port).

Usage: todays_client.py PATH-TO-goop-rendezvous
"""
import asyncio
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import proxies  # noqa: E402

PEER = "12D3KooWToday"
HEARTBEATS = 20
OTHER_EVENTS = 50


def start_server(binary, *extra):
    # Short pings; the scenarios publish far faster than a peer does: the per-peer limit off.
    return proxies.start_server(binary, "--ws-ping", "300ms", "--peer-publish-rate", "0", *extra)


class Endpoint:
    """The server as a client reaches it: plain on loopback, or through TLS (a proxy)."""

    def __init__(self, port, tls=None):
        self.port, self.tls = port, tls

    def ws(self, path):
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}{path}"

    def connection(self):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=5,
                                               context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)


def post(endpoint, body):
    connection = endpoint.connection()
    connection.request("POST", "/publish", body=json.dumps(body))
    status = connection.getresponse().status
    connection.close()
    return status


async def dial(endpoint, log):
    """WebSocket first: 425 means 'publish first' and is retried; anything else falls back."""
    while True:
        try:
            return await websockets.connect(
                endpoint.ws(f"/ws?peer_id={PEER}"), origin=None, compression=None,
                open_timeout=5, ssl=endpoint.tls)
        except websockets.exceptions.InvalidStatusCode as refusal:
            if refusal.status_code != 425:
                log["fell_back"] = refusal.status_code
                return None
            log["retries_after_425"] += 1
            await asyncio.sleep(0.25)


async def probe(endpoint):
    async with websockets.connect(endpoint.ws("/ws?probe=1"), ssl=endpoint.tls) as socket:
        try:
            await socket.recv()
        except websockets.exceptions.ConnectionClosedOK as closed:
            return closed.rcvd.code, closed.rcvd.reason
    return None


async def connects_and_stays(endpoint, via=""):
    """The client's normal life: in by WebSocket, heartbeats over it, every event, no token."""
    failures = []
    log = {"retries_after_425": 0, "fell_back": None}
    # At start, at the same time: the WebSocket dial and the first POST.
    socket, status = await asyncio.gather(
        dial(endpoint, log),
        asyncio.to_thread(post, endpoint, {"type": "online", "peerId": PEER,
                                       "verificationToken": "SECRET", "content": "today"}))
    if status != 204:
        failures.append(f"POST online answered {status}")
    if socket is None:
        failures.append(f"fell back to SSE after a {log['fell_back']}")
        return failures

    received = []

    async def read():
        async for message in socket:
            received.append(json.loads(message))

    reader = asyncio.create_task(read())
    # Heartbeats over the WebSocket, while another peer publishes by POST.
    other = asyncio.create_task(asyncio.to_thread(
        lambda: [post(endpoint, {"type": "update", "peerId": "other", "ts": i + 1})
                 for i in range(OTHER_EVENTS)]))
    for i in range(HEARTBEATS):
        await socket.send(json.dumps({"type": "update", "peerId": PEER, "ts": 1000 + i,
                                      "verificationToken": "SECRET"}))
        await asyncio.sleep(0.05)
    statuses = await other
    for _ in range(100):
        if len([m for m in received if m.get("type") == "update"]) >= HEARTBEATS + OTHER_EVENTS:
            break
        await asyncio.sleep(0.05)

    mine = [m["ts"] for m in received if m.get("peerId") == PEER and m["type"] == "update"]
    theirs = [m["ts"] for m in received if m.get("peerId") == "other"]
    if any(s != 204 for s in statuses):
        failures.append(f"the other peer's POSTs answered {set(statuses)}")
    if mine != [1000 + i for i in range(HEARTBEATS)]:
        failures.append(f"own heartbeats back: {mine}")
    if theirs != [i + 1 for i in range(OTHER_EVENTS)]:
        failures.append(f"the other peer's events: {theirs}")
    if any("verificationToken" in m or m.get("verified") is not True
           for m in received if m["type"] != "offline"):
        failures.append("a token reached a client, or an event lacks verified")
    if socket.state != websockets.protocol.State.OPEN:
        failures.append("the WebSocket did not stay open")
    # The client never falls back, so it never probes; the probe still answers as it should.
    closed = await probe(endpoint)
    if closed != (1000, "probe-ok"):
        failures.append(f"probe answered {closed}")
    await socket.close()
    reader.cancel()
    print(f"{via}connected after "
          f"{log['retries_after_425']} retries on 425; {len(received)} events received")
    return failures


async def direct(binary):
    server, port = start_server(binary)
    try:
        return await connects_and_stays(Endpoint(port))
    finally:
        server.terminate()
        server.wait(5)


async def through_tls(binary):
    """As the docs deploy it: Caddy in front with TLS (its own local CA here), wss:// to it."""
    caddy = shutil.which("caddy")
    if not caddy:
        return ["caddy is missing (./install-deps.sh)"]
    server, port = start_server(binary)
    with tempfile.TemporaryDirectory() as home:
        tls_port = proxies.free_port()
        caddyfile = os.path.join(home, "Caddyfile")
        with open(caddyfile, "w") as out:
            out.write("{\n\tadmin off\n\tskip_install_trust\n\tlocal_certs\n}\n"
                      f"https://127.0.0.1:{tls_port} {{\n\ttls internal\n"
                      f"\treverse_proxy 127.0.0.1:{port}\n}}\n")
        environment = dict(os.environ, XDG_DATA_HOME=home, XDG_CONFIG_HOME=home, HOME=home)
        proxy = subprocess.Popen([caddy, "run", "--config", caddyfile, "--adapter", "caddyfile"],
                                 env=environment, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            root = os.path.join(home, "caddy", "pki", "authorities", "local", "root.crt")
            endpoint = healthy(lambda: Endpoint(tls_port, ssl.create_default_context(cafile=root))
                               if os.path.exists(root) else None)
            if not endpoint:
                return ["Caddy with TLS did not come up"]
            return await connects_and_stays(endpoint, "through TLS: ")
        finally:
            proxy.terminate()
            proxy.wait(5)
            server.terminate()
            server.wait(5)


async def through_nginx(binary):
    """Through nginx configured by docs/nginx.conf.example itself (its upstream, headers and
    locations, /ws included), only moved to a loopback port without TLS: if the example does
    not carry WebSocket upgrades, this fails."""
    server, port = start_server(binary)
    try:
        with proxies.nginx_from_example(port) as proxy_port:
            if proxy_port is None:
                return ["nginx is missing (./install-deps.sh)"]
            endpoint = healthy(lambda: Endpoint(proxy_port))
            if not endpoint:
                return ["nginx with the example's configuration did not come up"]
            return await connects_and_stays(endpoint, "through nginx: ")
    finally:
        proxies.stop(server)


def healthy(make_endpoint, seconds=30):
    """The endpoint `make_endpoint` gives (None: not yet) once /healthz answers 200 through
    it, as a proxy in front comes up; None if it did not in time."""
    found = []

    def connect():
        endpoint = make_endpoint()
        found[:] = [endpoint] if endpoint else []
        return endpoint.connection() if endpoint else None

    return found[0] if proxies.wait_healthy(connect, seconds) else None


async def follow_sse(port, received, stop):
    """GET /events in a thread-friendly way: the client's fallback while it has no WebSocket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    while not stop.is_set():
        try:
            line = await asyncio.wait_for(reader.readline(), 0.1)
        except asyncio.TimeoutError:
            continue
        if not line:
            break
        if line.startswith(b"data: "):
            received.append(json.loads(line[6:]))
    writer.close()


async def fallback_and_back(binary):
    """Refused (429), the client follows /events, probes, and switches back to the WebSocket."""
    server, port = start_server(binary, "--max-ws-per-address", "1")
    endpoint = Endpoint(port)
    failures = []
    try:
        for peer in ("blocker", PEER):
            await asyncio.to_thread(post, endpoint, {"type": "online", "peerId": peer})
        blocker = await websockets.connect(f"ws://127.0.0.1:{port}/ws?peer_id=blocker")
        published = []

        async def publish_steadily():
            for i in range(60):
                await asyncio.to_thread(post, endpoint, {"type": "update", "peerId": "other",
                                                     "ts": i + 1})
                published.append(i + 1)
                await asyncio.sleep(0.05)

        log = {"retries_after_425": 0, "fell_back": None}
        socket = await dial(endpoint, log)
        received, stop_sse = [], asyncio.Event()
        probes = 0
        if socket is None:
            sse = asyncio.create_task(follow_sse(port, received, stop_sse))
            await asyncio.sleep(0.1)  # subscribed: from here on, every event counts
            publisher = asyncio.create_task(publish_steadily())
            await asyncio.sleep(0.3)
            # The place frees up a moment later; the client notices with its next probe.
            asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(blocker.close()))
            while True:
                probes += 1
                if await probe(endpoint) == (1000, "probe-ok"):
                    socket = await dial(endpoint, log)
                    if socket is not None:
                        break
                await asyncio.sleep(0.5)
            via_sse = len(received)

            async def read():
                async for message in socket:
                    received.append(json.loads(message))

            reader = asyncio.create_task(read())
            await asyncio.sleep(0.2)  # both open for a moment: nothing falls in between
            stop_sse.set()
            await sse
        else:
            failures.append("the WebSocket was not refused: the fallback was not tried")
            return failures
        await publisher
        await asyncio.sleep(0.5)
        seen = sorted({m["ts"] for m in received if m.get("peerId") == "other"})
        if log["fell_back"] != 429:
            failures.append(f"fell back after {log['fell_back']}, expected 429")
        if seen != published:
            missing = sorted(set(published) - set(seen))
            failures.append(f"events missing across the switch: {missing}")
        if socket.state != websockets.protocol.State.OPEN:
            failures.append("did not end on the WebSocket")
        print(f"fell back after a {log['fell_back']}, {via_sse} events over SSE, back on the "
              f"WebSocket after {probes} probes; {len(seen)} of {len(published)} events")
        await socket.close()
        reader.cancel()
    finally:
        server.terminate()
        server.wait(5)
    return failures


if __name__ == "__main__":
    results = [asyncio.run(scenario(sys.argv[1]))
               for scenario in (direct, fallback_and_back, through_tls, through_nginx)]
    for problem in (p for problems in results for p in problems):
        print("FAIL:", problem)
    failed = sum(1 for problems in results if problems)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
