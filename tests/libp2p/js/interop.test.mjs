// js-libp2p (from npm, pinned in package.json) dials a real goop-rendezvous over loopback: the
// connection goes through multistream-select, Noise and Yamux, then js pings our host and runs
// identify, and the peer ID must survive a restart with the same key file.
//
//   node interop.test.mjs path/to/goop-rendezvous
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { multiaddr } from '@multiformats/multiaddr';

const binary = process.argv[2];
assert.ok(binary, 'usage: node interop.test.mjs GOOP_RENDEZVOUS_BINARY');
const version = execFileSync(binary, ['--version']).toString().trim().split(' ')[1];
const LISTENING = /libp2p listening on (\S+)/;

// Starts the daemon with a libp2p host on a free loopback port; resolves with its address.
function startServer(keyFile) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', '127.0.0.1:0', '--libp2p-listen', '/ip4/127.0.0.1/tcp/0',
      '--libp2p-key', keyFile], { stdio: ['ignore', 'ignore', 'pipe'] });
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

async function jsNode() {
  return createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncryption: [noise()],
    streamMuxers: [yamux()],
    // Several pings at once need several streams; js allows one by default.
    services: { identify: identify(), ping: ping({ maxOutboundStreams: 32 }) },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'goop-libp2p-'));
const keyFile = join(dir, 'libp2p.key');

test('js-libp2p pings and identifies goop-rendezvous', async (t) => {
  const server = await startServer(keyFile);
  const node = await jsNode();
  t.after(async () => { await node.stop(); await stopServer(server); });

  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key file is created private');
  assert.match(server.peerId, /^12D3KooW/, 'an Ed25519 peer ID');

  const connection = await node.dial(multiaddr(server.address));
  assert.equal(connection.remotePeer.toString(), server.peerId, 'Noise proves the peer ID');
  assert.equal(connection.encryption, '/noise');
  assert.equal(connection.multiplexer, '/yamux/1.0.0');

  for (let i = 0; i < 5; ++i) {
    const latency = await node.services.ping.ping(multiaddr(server.address));
    assert.ok(latency >= 0 && latency < 5000, `ping ${i} answered in ${latency} ms`);
  }

  const result = await node.services.identify.identify(connection);
  assert.equal(result.peerId.toString(), server.peerId);
  assert.equal(result.agentVersion, `goop-rendezvous/${version}`);
  assert.equal(result.protocolVersion, 'ipfs/0.1.0');
  assert.ok(result.protocols.includes('/ipfs/ping/1.0.0'), `protocols: ${result.protocols}`);
  assert.ok(result.protocols.includes('/ipfs/id/1.0.0'), `protocols: ${result.protocols}`);
  const listen = result.listenAddrs.map((a) => a.toString());
  assert.ok(listen.includes(server.address.split('/p2p/')[0]), `listen addresses: ${listen}`);
  // What our host saw of the js node: its loopback address and port.
  assert.match(result.observedAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/);

  // Several streams at once on one connection.
  const many = await Promise.all(Array.from({ length: 20 },
    () => node.services.ping.ping(multiaddr(server.address))));
  assert.equal(many.length, 20);
  assert.equal(node.getConnections().length, 1, 'one connection carried every stream');

  // A clean exit after serving: under the sanitizers a leak or an error would change it.
  await node.stop();
  assert.equal(await stopServer(server), 0, server.log());
});

test('the peer ID survives a restart with the same key file', async (t) => {
  const first = await startServer(keyFile);
  assert.equal(await stopServer(first), 0, first.log());
  const second = await startServer(keyFile);
  const node = await jsNode();
  t.after(async () => { await node.stop(); await stopServer(second); rmSync(dir, { recursive: true, force: true }); });
  assert.equal(second.peerId, first.peerId);
  const latency = await node.services.ping.ping(multiaddr(second.address));
  assert.ok(latency >= 0);
});
