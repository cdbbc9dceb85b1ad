// js-libp2p (@libp2p/circuit-relay-v2, pinned in package.json) uses goop-rendezvous as its
// circuit relay v2 over loopback: one js node reserves a slot, a second dials it through
// /p2p-circuit and they exchange a megabyte each way on a protocol of their own; the
// reservation's voucher opens as a signed envelope; circuit limits set by flag end a circuit by
// resetting it.
//
//   node relay.test.mjs path/to/goop-rendezvous
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { RecordEnvelope } from '@libp2p/peer-record';
import { lpStream } from 'it-length-prefixed-stream';
import { multiaddr } from '@multiformats/multiaddr';

const binary = process.argv[2];
assert.ok(binary, 'usage: node relay.test.mjs GOOP_RENDEZVOUS_BINARY');
const LISTENING = /libp2p listening on (\S+)/;
const PROTOCOL = '/goop-test/exchange/1.0.0';
const MEGABYTE = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'goop-relay-'));
let servers = 0;

// Starts the daemon with its libp2p host (and so its relay) on a free loopback port.
function startServer(extraArgs = []) {
  const keyFile = join(dir, `relay-${++servers}.key`);
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', '127.0.0.1:0', '--libp2p-listen', '/ip4/127.0.0.1/tcp/0',
      '--libp2p-key', keyFile, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no libp2p address in time:\n${log}`)); }, 10000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const match = LISTENING.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, address: match[1], peerId: match[1].split('/p2p/')[1], log: () => log });
      }
    });
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) return resolve(server.proc.exitCode);
    server.proc.removeAllListeners('exit');
    server.proc.on('exit', (code) => resolve(code));
    server.proc.kill('SIGTERM');
  });
}

async function jsNode(listen = []) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport({ discoverRelays: 0 })],
    connectionEncryption: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    connectionGater: { denyDialMultiaddr: () => false }, // loopback addresses are fine here
  });
}

// A node that reserves a slot on the relay and answers PROTOCOL: it reads all the dialer
// sends while sending its own megabyte, then reports the digest of what it read.
async function listeningNode(relay, payload) {
  const node = await jsNode([`${relay.address}/p2p-circuit`]);
  const received = new Promise((resolve) => {
    node.handle(PROTOCOL, async ({ stream }) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let failure = null;
      const sending = stream.sink((async function* () { yield payload; })()).catch((e) => { failure = e; });
      try {
        for await (const chunk of stream.source) {
          const data = chunk.subarray();
          hash.update(data);
          bytes += data.length;
        }
      } catch (e) { failure = e; }
      await sending;
      resolve({ bytes, digest: hash.digest('hex'), failure });
    }, { runOnTransientConnection: true });
  });
  const deadline = Date.now() + 10000;
  while (!node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))) {
    assert.ok(Date.now() < deadline, 'the js node got no reservation in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  const circuit = node.getMultiaddrs().find((a) => a.toString().includes('/p2p-circuit'));
  return { node, received, circuit };
}

// Dials `circuit`, sends `payload` while reading what comes back: the bytes and their digest.
async function exchange(node, circuit, payload) {
  const stream = await node.dialProtocol(circuit, PROTOCOL, { runOnTransientConnection: true });
  const hash = createHash('sha256');
  let bytes = 0;
  let failure = null;
  const sending = stream.sink((async function* () {
    for (let offset = 0; offset < payload.length; offset += 64 * 1024)
      yield payload.subarray(offset, offset + 64 * 1024);
  })()).catch((e) => { failure = e; });
  try {
    for await (const chunk of stream.source) {
      const data = chunk.subarray();
      hash.update(data);
      bytes += data.length;
    }
  } catch (e) { failure = e; }
  await sending;
  return { bytes, digest: hash.digest('hex'), failure, connection: stream };
}

// The daemon's HTTP address, once it listens.
async function httpAddress(server) {
  await waitFor(() => server.log().includes('http://'), 'HTTP up');
  return /listening on (http:\/\/[^\s(]+)/.exec(server.log())[1];
}

// One sample of the daemon's /metrics, e.g. metric(server, 'goop_relay_circuits_total{result="opened"}').
async function metric(server, sample) {
  const text = await (await fetch(`${await httpAddress(server)}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `no ${sample} in /metrics`);
  return Number(line.slice(sample.length + 1));
}

const digest = (bytes) => createHash('sha256').update(bytes).digest('hex');

// Reads the protobuf fields of one message: field number -> list of values (bigint or bytes).
function fields(bytes) {
  const out = new Map();
  let i = 0;
  const varint = () => {
    let value = 0n; let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      value |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return value;
    }
  };
  while (i < bytes.length) {
    const key = Number(varint());
    const number = key >> 3;
    let value;
    if ((key & 7) === 0) value = varint();
    else if ((key & 7) === 2) { const length = Number(varint()); value = bytes.subarray(i, i + length); i += length; }
    else throw new Error(`unexpected wire type ${key & 7}`);
    if (!out.has(number)) out.set(number, []);
    out.get(number).push(value);
  }
  return out;
}

test('a js node reserves on our relay, another reaches it through /p2p-circuit', async (t) => {
  const relay = await startServer();
  const toDialer = randomBytes(MEGABYTE);
  const toListener = randomBytes(MEGABYTE);
  const listener = await listeningNode(relay, toDialer);
  const dialer = await jsNode();
  t.after(async () => { await dialer.stop(); await listener.node.stop(); await stopServer(relay); });

  assert.ok(listener.circuit.toString().startsWith(`${relay.address}/p2p-circuit/p2p/`),
    `circuit address ${listener.circuit}`);
  const started = Date.now();
  const result = await exchange(dialer, listener.circuit, toListener);
  const elapsed = Date.now() - started;
  const heard = await listener.received;
  assert.equal(result.failure, null, `dialer: ${result.failure}`);
  assert.equal(heard.failure, null, `listener: ${heard.failure}`);
  assert.equal(heard.bytes, MEGABYTE, 'the listener got a whole megabyte');
  assert.equal(heard.digest, digest(toListener), 'and the right one');
  assert.equal(result.bytes, MEGABYTE, 'the dialer got a whole megabyte');
  assert.equal(result.digest, digest(toDialer), 'and the right one');
  const relayed = dialer.getConnections().find((c) => c.remoteAddr.toString().includes('/p2p-circuit'));
  assert.ok(relayed, 'the dialer reached the listener through the relay');
  assert.equal(relayed.remotePeer.toString(), listener.node.peerId.toString());
  console.log(`# 2 MiB relayed (1 MiB each way) in ${elapsed} ms`);

  // What operators see: the reservation, the circuit and the bytes it carried.
  assert.equal(await metric(relay, 'goop_relay_reservations'), 1);
  assert.equal(await metric(relay, 'goop_relay_reservations_total{result="granted"}'), 1);
  assert.equal(await metric(relay, 'goop_relay_circuits_total{result="opened"}'), 1);
  assert.equal(await metric(relay, 'goop_relay_circuits_total{result="refused"}'), 0);
  const relayedBytes = await metric(relay, 'goop_relay_bytes_total');
  assert.ok(relayedBytes >= 2 * MEGABYTE && relayedBytes < 2 * MEGABYTE + 65536,
    `${relayedBytes} bytes relayed`);
  assert.ok(await metric(relay, 'goop_libp2p_connections') >= 2, 'both nodes connected');
});

test('the reservation carries a voucher the relay signed, and the limits', async (t) => {
  const relay = await startServer(['--relay-circuit-duration', '600s', '--relay-circuit-bytes', '5000000']);
  const node = await jsNode();
  t.after(async () => { await node.stop(); await stopServer(relay); });
  const stream = await node.dialProtocol(multiaddr(relay.address), '/libp2p/circuit/relay/0.2.0/hop');
  const lp = lpStream(stream);
  await lp.write(Uint8Array.from([0x08, 0x00])); // HopMessage { type: RESERVE }
  const answer = fields((await lp.read()).subarray());
  await stream.close();
  assert.equal(answer.get(1)[0], 2n, 'a STATUS');
  assert.equal(answer.get(5)[0], 100n, 'OK');
  const reservation = fields(answer.get(3)[0]);
  const expire = reservation.get(1)[0];
  const now = BigInt(Math.floor(Date.now() / 1000));
  assert.ok(expire > now + 3500n && expire <= now + 3601n, `expires in an hour: ${expire - now} s`);
  const addrs = reservation.get(2).map((a) => multiaddr(a).toString());
  assert.ok(addrs.includes(relay.address), `reservation addresses: ${addrs}`);
  const limit = fields(answer.get(4)[0]);
  assert.equal(limit.get(1)[0], 600n, 'the duration limit');
  assert.equal(limit.get(2)[0], 5000000n, 'the data limit');

  const envelope = await RecordEnvelope.openAndCertify(reservation.get(3)[0], 'libp2p-relay-rsvp');
  assert.equal(envelope.peerId.toString(), relay.peerId, 'signed by the relay');
  assert.deepEqual([...envelope.payloadType], [0x03, 0x02], 'multicodec 0x0302');
  const voucher = fields(envelope.payload);
  assert.deepEqual([...voucher.get(1)[0]], [...envelope.peerId.toBytes()], 'voucher.relay');
  assert.deepEqual([...voucher.get(2)[0]], [...node.peerId.toBytes()], 'voucher.peer');
  assert.equal(voucher.get(3)[0], expire, 'voucher.expiration');
  await assert.rejects(RecordEnvelope.openAndCertify(reservation.get(3)[0], 'libp2p-routing-state'),
    'a voucher is not valid in another domain');
});

test('GET /relay names the built-in relay, and --relay-disable turns it off', async (t) => {
  const relay = await startServer(['--libp2p-announce', '/ip4/203.0.113.7/tcp/4001']);
  const off = await startServer(['--relay-disable']);
  t.after(async () => { await stopServer(relay); await stopServer(off); });
  const http = { relay: await httpAddress(relay), off: await httpAddress(off) };
  const info = await (await fetch(`${http.relay}/relay`)).json();
  assert.equal(info.peer_id, relay.peerId);
  assert.deepEqual(info.addrs, ['/ip4/203.0.113.7/tcp/4001'], 'the announced address');
  const capabilities = await (await fetch(`${http.relay}/api/capabilities`)).json();
  assert.equal(capabilities.relay, true);
  assert.equal((await fetch(`${http.off}/relay`)).status, 404);
  assert.equal((await (await fetch(`${http.off}/api/capabilities`)).json()).relay, false);
  // Without the relay the hop protocol is not offered.
  const node = await jsNode();
  t.after(() => node.stop());
  await assert.rejects(node.dialProtocol(multiaddr(off.address), '/libp2p/circuit/relay/0.2.0/hop'));
});

test('a circuit past its data limit is reset', async (t) => {
  const relay = await startServer(['--relay-circuit-bytes', '200000']);
  const listener = await listeningNode(relay, randomBytes(16));
  const dialer = await jsNode();
  t.after(async () => { await dialer.stop(); await listener.node.stop(); await stopServer(relay); });
  let relayedClosed = false;
  dialer.addEventListener('connection:close', (event) => {
    if (event.detail.remoteAddr.toString().includes('/p2p-circuit')) relayedClosed = true;
  });
  const result = await exchange(dialer, listener.circuit, randomBytes(MEGABYTE));
  const heard = await listener.received;
  assert.ok(heard.bytes < 200000, `the listener got ${heard.bytes} bytes, below the limit`);
  assert.ok(result.failure !== null || heard.failure !== null, 'the stream was reset');
  // (js-libp2p may open a new circuit at once: the one that carried the exchange must close.)
  await waitFor(() => relayedClosed, 'the relayed connection closed');
  assert.equal(await metric(relay, 'goop_relay_circuits_limited_total'), 1);
});

test('a circuit past its duration limit is reset', async (t) => {
  const relay = await startServer(['--relay-circuit-duration', '2s']);
  const listener = await listeningNode(relay, randomBytes(16));
  const dialer = await jsNode();
  t.after(async () => { await dialer.stop(); await listener.node.stop(); await stopServer(relay); });
  // A stream that stays open: the dialer never ends its side, so only the relay can end it.
  const stream = await dialer.dialProtocol(listener.circuit, PROTOCOL, { runOnTransientConnection: true });
  const opened = Date.now();
  let keepOpen;
  stream.sink((async function* () { await new Promise((r) => { keepOpen = r; }); })()).catch(() => {});
  // Without the limit nothing would end it: give up after a while.
  const giveUp = setTimeout(() => stream.abort(new Error('not reset in 8 s')), 8000);
  let bytes = 0;
  let failure = null;
  try {
    for await (const chunk of stream.source) bytes += chunk.subarray().length;
  } catch (e) { failure = e; }
  const heard = await listener.received;
  clearTimeout(giveUp);
  const lasted = Date.now() - opened;
  keepOpen?.();
  assert.equal(bytes, 16, 'what the listener sent came through');
  assert.ok(failure !== null || heard.failure !== null, 'the stream was reset');
  assert.ok(lasted >= 1500 && lasted < 6000, `the stream ended after ${lasted} ms`);
  // The listener is reachable again through a new circuit (js notices the old one is gone
  // only at its next keep-alive: drop it first).
  await dialer.hangUp(listener.node.peerId);
  const again = await exchange(dialer, listener.circuit, randomBytes(1000));
  assert.equal(again.failure, null);
  console.log(`# the circuit was reset after ${lasted} ms`);
});

async function waitFor(condition, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

after(() => rmSync(dir, { recursive: true, force: true }));
