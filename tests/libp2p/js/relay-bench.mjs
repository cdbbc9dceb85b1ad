// Relayed throughput and latency through goop-rendezvous's circuit relay and through a
// js-libp2p relay (@libp2p/circuit-relay-v2's server), side by side, over loopback, each relay
// a process of its own, the two js clients in this one. Not a ctest: run by
// tests/bench/run-relay-benchmark.sh, or by hand:
//
//   node relay-bench.mjs path/to/goop-rendezvous [MEBIBYTES]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';

const binary = process.argv[2];
const mebibytes = Number(process.argv[3] ?? 8);
let dir; // for our relay's key
const SINK = '/goop-bench/sink/1.0.0';
const ECHO = '/goop-bench/echo/1.0.0';

function startOurs() {
  dir = mkdtempSync(join(tmpdir(), 'goop-relay-bench-'));
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', '127.0.0.1:0', '--libp2p-listen', '/ip4/127.0.0.1/tcp/0',
      '--libp2p-key', join(dir, 'key'), '--relay-circuit-bytes', '0', '--relay-circuit-duration', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /libp2p listening on (\S+)/.exec(log);
      if (match) resolve({ address: match[1], stop: () => proc.kill('SIGTERM'), pid: proc.pid });
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
  });
}

// The js relay in a node process of its own (this script with --js-relay), as ours is: each
// relay gets a core apart from the clients, and its CPU can be read the same way.
function startJs() {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [process.argv[1], '--js-relay'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /^relay (\S+)$/m.exec(out);
      if (match) resolve({ address: match[1], stop: () => proc.kill('SIGTERM'), pid: proc.pid });
    });
    proc.on('exit', (code) => reject(new Error(`js relay exited ${code}: ${out}`)));
  });
}

async function serveJsRelay() {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncryption: [noise()],
    streamMuxers: [yamux()],
    // Room for goop-relayhold's thousand reservations (run-relay-benchmark.sh).
    connectionManager: { maxConnections: 10000, maxIncomingPendingConnections: 1000 },
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        reservations: { applyDefaultLimit: false, maxReservations: 10000 },
        maxInboundHopStreams: 10000,
      }),
    },
  });
  console.log(`relay ${node.getMultiaddrs()[0].toString()}`);
  process.on('SIGTERM', async () => { await node.stop(); process.exit(0); });
}

async function client(listen = []) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport({ discoverRelays: 0 })],
    connectionEncryption: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
}

// The relay process's CPU seconds (user and system).
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(relay) {
  const listener = await client([`${relay.address}/p2p-circuit`]);
  await listener.handle(SINK, async ({ stream }) => {
    let bytes = 0;
    for await (const chunk of stream.source) bytes += chunk.byteLength;
    await stream.sink([new TextEncoder().encode(String(bytes))]);
  }, { runOnTransientConnection: true });
  await listener.handle(ECHO, ({ stream }) => stream.sink(stream.source), { runOnTransientConnection: true });
  while (!listener.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')))
    await new Promise((r) => setTimeout(r, 20));
  const circuit = listener.getMultiaddrs().find((a) => a.toString().includes('/p2p-circuit'));
  const dialer = await client();

  // Latency: 200 one-byte round trips on one stream.
  const echo = await dialer.dialProtocol(circuit, ECHO, { runOnTransientConnection: true });
  const times = [];
  const replies = echo.source[Symbol.asyncIterator]();
  const pushable = [];
  let wake;
  echo.sink((async function* () {
    for (;;) {
      while (pushable.length === 0) await new Promise((r) => { wake = r; });
      const next = pushable.shift();
      if (next === null) return;
      yield next;
    }
  })());
  for (let i = 0; i < 200; ++i) {
    const start = process.hrtime.bigint();
    pushable.push(Uint8Array.of(i & 0xff));
    wake?.();
    await replies.next();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  pushable.push(null);
  wake?.();
  times.sort((a, b) => a - b);

  // Throughput: MEBIBYTES one way, until the listener confirms it has them all.
  const payload = randomBytes(64 * 1024);
  const stream = await dialer.dialProtocol(circuit, SINK, { runOnTransientConnection: true });
  const start = Date.now();
  const cpuBefore = cpuSeconds(relay.pid);
  await stream.sink((async function* () {
    for (let i = 0; i < mebibytes * 16; ++i) yield payload;
  })());
  for await (const chunk of stream.source) void chunk;
  const seconds = (Date.now() - start) / 1000;
  const cpuMsPerMib = (cpuSeconds(relay.pid) - cpuBefore) * 1000 / mebibytes;
  await dialer.stop();
  await listener.stop();
  return { mibPerSecond: mebibytes / seconds, p50: times[100], p99: times[198], cpuMsPerMib };
}

async function compare() {
  const rows = [];
  for (const [name, start] of [['goop-rendezvous', startOurs], ['js-libp2p relay', startJs]]) {
    const relay = await start();
    const result = await measure(relay);
    rows.push(`| ${name} | ${result.mibPerSecond.toFixed(1)} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} | ${result.cpuMsPerMib.toFixed(1)} |`);
    await relay.stop();
  }
  console.log(`| relay | MiB/s (${mebibytes} MiB one way) | RTT p50 ms | RTT p99 ms | relay CPU ms per MiB |`);
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

if (binary === '--js-relay') {
  await serveJsRelay();
} else {
  await compare();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
