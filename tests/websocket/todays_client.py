#!/usr/bin/env python3
"""Today's Goop² client, as PROTOCOL.md ("What a current client does") describes it, written
with a WebSocket implementation that is not ours (Python's `websockets`), against the real
server: it dials /ws first while it POSTs its `online`, retries a 425 after 250 ms for ever,
falls back to SSE and probes on any other refusal, publishes its heartbeats over the WebSocket
and drops nothing. It must end on the WebSocket, never fall back, and get every event.

Usage: todays_client.py PATH-TO-goop-rendezvous
"""
import asyncio
import http.client
import json
import re
import subprocess
import sys

import websockets

PEER = "12D3KooWToday"
HEARTBEATS = 20
OTHER_EVENTS = 50


def start_server(binary):
    process = subprocess.Popen([binary, "-addr", "127.0.0.1:0", "--ws-ping", "300ms"],
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        match = re.search(r"listening on http://[^\s:]+:(\d+)", line)
        if match:
            return process, int(match.group(1))
    raise SystemExit("the server did not start")


def post(port, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", "/publish", body=json.dumps(body))
    status = connection.getresponse().status
    connection.close()
    return status


async def dial(port, log):
    """WebSocket first: 425 means 'publish first' and is retried; anything else falls back."""
    while True:
        try:
            return await websockets.connect(
                f"ws://127.0.0.1:{port}/ws?peer_id={PEER}", origin=None, compression=None,
                open_timeout=5)
        except websockets.exceptions.InvalidStatusCode as refusal:
            if refusal.status_code != 425:
                log["fell_back"] = refusal.status_code
                return None
            log["retries_after_425"] += 1
            await asyncio.sleep(0.25)


async def probe(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws?probe=1") as socket:
        try:
            await socket.recv()
        except websockets.exceptions.ConnectionClosedOK as closed:
            return closed.rcvd.code, closed.rcvd.reason
    return None


async def main(binary):
    server, port = start_server(binary)
    failures = []
    try:
        log = {"retries_after_425": 0, "fell_back": None}
        # At start, at the same time: the WebSocket dial and the first POST.
        socket, status = await asyncio.gather(
            dial(port, log),
            asyncio.to_thread(post, port, {"type": "online", "peerId": PEER,
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
            lambda: [post(port, {"type": "update", "peerId": "other", "ts": i + 1})
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
        closed = await probe(port)
        if closed != (1000, "probe-ok"):
            failures.append(f"probe answered {closed}")
        await socket.close()
        reader.cancel()
        print(f"connected after {log['retries_after_425']} retries on 425; "
              f"{len(received)} events received")
    finally:
        server.terminate()
        server.wait(5)
    return failures


if __name__ == "__main__":
    problems = asyncio.run(main(sys.argv[1]))
    for problem in problems:
        print("FAIL:", problem)
    print(f"{0 if problems else 1} passed, {len(problems)} failed")
    sys.exit(1 if problems else 0)
