// Several daemons sharing one Redis (--redis) share their rendezvous points' registrations: a
// js-libp2p node registers at one instance and another node discovers it, over the wire, at
// another; an UNREGISTER and a TTL's end reach every instance; an instance started later gets
// the registrations from the cluster's snapshot; and what was registered while Redis was away
// reaches the others once it is back (here a Redis restarted empty).
//
//   node rendezvous-cluster.test.mjs path/to/goop-rendezvous path/to/redis-server
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Status, discover, discoveredPeers, jsNode, register, startDaemon, unregister,
} from './rendezvous-client.mjs';

const [binary, redisBinary] = process.argv.slice(2);
assert.ok(binary && redisBinary,
  'usage: node rendezvous-cluster.test.mjs GOOP_RENDEZVOUS_BINARY REDIS_SERVER_BINARY');

const NS = 'goop-test/cluster';
const dir = mkdtempSync(join(tmpdir(), 'goop-rendezvous-cluster-'));
const daemons = [];
const nodes = [];
let redis;
let redisPort;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// As tests/cluster/redisprocess.cpp starts it: no persistence, so a restart loses everything.
async function startRedis() {
  const proc = spawn(redisBinary, ['--port', String(redisPort), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no',
    '--loglevel', 'warning', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 250; ++i) {
    const up = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(false));
      socket.connect(redisPort, '127.0.0.1', () => { socket.destroy(); resolve(true); });
    });
    if (up) return proc;
    await sleep(20);
  }
  proc.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

async function stopRedis() {
  if (!redis || redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((done) => redis.once('exit', done));
  redis.kill('SIGKILL');
  await exited;
}

// TTLs of a few seconds are allowed, for the expiry test.
async function daemon(name) {
  const started = await startDaemon(binary, join(dir, `${name}.key`),
    ['--redis', `redis://127.0.0.1:${redisPort}/0`, '--rendezvous-min-ttl', '1s']);
  daemons.push(started);
  return started;
}

async function node() {
  const created = await jsNode();
  nodes.push(created);
  return created;
}

async function peersAt(seeker, instance, ns = NS) {
  const answer = await discover(seeker, instance.address, ns);
  assert.equal(answer.status, Status.OK, answer.statusText);
  return discoveredPeers(answer);
}

// Polls the instance over the wire until `check(peers)` holds; returns the last peers seen.
async function eventually(seeker, instance, check, { ns = NS, timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let peers = await peersAt(seeker, instance, ns);
  while (!check(peers) && Date.now() < deadline) {
    await sleep(100);
    peers = await peersAt(seeker, instance, ns);
  }
  return peers;
}

let first;
let second;

before(async () => {
  redisPort = await freePort();
  redis = await startRedis();
  first = await daemon('first');
  second = await daemon('second');
});

// By polling: with several daemons, awaiting each one's 'exit' event did not return here
// although they had all exited (code 0).
async function stopDaemon(instance) {
  const { proc } = instance;
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  const deadline = Date.now() + 10000;
  while (proc.exitCode === null && proc.signalCode === null && Date.now() < deadline) await sleep(50);
}

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(daemons.map(stopDaemon));
  await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

test('a registration at one instance is discovered at another, until it is unregistered', async () => {
  const registrant = await node();
  const seeker = await node();
  const id = registrant.peerId.toString();
  const answer = await register(registrant, first.address, NS, { ttl: 7200 });
  assert.equal(answer.status, Status.OK, answer.statusText);

  const seen = await eventually(seeker, second, (peers) => peers.includes(id));
  assert.deepEqual(seen, [id], 'discovered at the second instance, its record verified by js-libp2p');
  const full = await discover(seeker, second.address, NS);
  assert.ok(full.registrations[0].ttl > 7100 && full.registrations[0].ttl <= 7200,
    `the TTL left travels with it: ${full.registrations[0].ttl}`);
  const view = await (await fetch(`${second.url}/rendezvous.json`)).json();
  const ns = view.namespaces.find((n) => n.namespace === NS);
  assert.ok(ns, JSON.stringify(view));
  assert.equal(ns.registrations[0].peer_id, id);
  assert.deepEqual(ns.registrations[0].addrs, ['/ip4/192.0.2.1/tcp/4001']);

  // The instance that took it hears its own change back from Redis: that must not make it new
  // again for a client that has already seen it.
  const atFirst = await discover(seeker, first.address, NS);
  assert.deepEqual(await discoveredPeers(atFirst), [id]);
  await sleep(500);
  const since = await discover(seeker, first.address, NS, { cookie: atFirst.cookie });
  assert.equal(since.registrations.length, 0, 'nothing new at the first instance');

  await unregister(registrant, first.address, NS);
  const left = await eventually(seeker, second, (peers) => !peers.includes(id));
  assert.deepEqual(left, [], 'unregistered at the second instance too');
});

test('an instance started later gets the registrations from the snapshot', async () => {
  const registrant = await node();
  const seeker = await node();
  const id = registrant.peerId.toString();
  const ns = `${NS}/late`;
  assert.equal((await register(registrant, first.address, ns)).status, Status.OK);
  // At the second instance, so in Redis.
  assert.deepEqual(await eventually(seeker, second, (peers) => peers.includes(id), { ns }), [id]);
  const late = await daemon('late');
  assert.deepEqual(await peersAt(seeker, late, ns), [id], 'in the snapshot the late instance loaded');
  await unregister(registrant, first.address, ns);
  const left = await eventually(seeker, late, (peers) => peers.length === 0, { ns });
  assert.deepEqual(left, [], 'and it follows the stream from there');
});

test('a registration whose TTL ends goes at every instance', async () => {
  const registrant = await node();
  const seeker = await node();
  const id = registrant.peerId.toString();
  const answer = await register(registrant, first.address, NS, { ttl: 2 });
  assert.equal(answer.status, Status.OK, answer.statusText);
  assert.equal(answer.ttl, 2);
  const seen = await eventually(seeker, second, (peers) => peers.includes(id));
  assert.deepEqual(seen, [id]);
  await sleep(2200);
  assert.deepEqual(await peersAt(seeker, second), [], 'expired at the second instance');
  assert.deepEqual(await peersAt(seeker, first), [], 'and at the first');
});

test('what is registered while Redis is away reaches the other instances when it is back', async () => {
  const earlier = await node();
  const during = await node();
  const seeker = await node();
  assert.equal((await register(earlier, first.address, NS)).status, Status.OK);
  await eventually(seeker, second, (peers) => peers.includes(earlier.peerId.toString()));

  await stopRedis();
  await sleep(300);
  assert.equal((await register(during, first.address, NS)).status, Status.OK,
    'the instance keeps serving its own store');
  assert.ok((await peersAt(seeker, first)).includes(during.peerId.toString()));
  // Back empty (no persistence): the first instance sends its own registrations again.
  redis = await startRedis();
  const expected = [earlier.peerId.toString(), during.peerId.toString()].sort();
  const peers = await eventually(seeker, second,
    (seen) => JSON.stringify([...seen].sort()) === JSON.stringify(expected), { timeoutMs: 20000 });
  assert.deepEqual([...peers].sort(), expected);
});
