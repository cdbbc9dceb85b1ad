// js-libp2p nodes use our daemon as a libp2p rendezvous point (/rendezvous/1.0.0) over
// loopback: they register signed peer records in a namespace, another node discovers them a
// page at a time by cookie and later asks only for what is new, and forged registrations are
// refused. The operators' views (/rendezvous.json, /metrics) must show the registrations.
//
//   node rendezvous.test.mjs path/to/goop-rendezvous
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Status, discover, discoveredPeers, jsNode, register, signedRecord, startDaemon, unregister,
} from './rendezvous-client.mjs';

const binary = process.argv[2];
assert.ok(binary, 'usage: node rendezvous.test.mjs GOOP_RENDEZVOUS_BINARY');

const NS = 'goop-test/rendezvous';
const dir = mkdtempSync(join(tmpdir(), 'goop-rendezvous-'));
let daemon;
const nodes = [];

async function node() {
  const created = await jsNode();
  nodes.push(created);
  return created;
}

before(async () => {
  daemon = await startDaemon(binary, join(dir, 'libp2p.key'));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('js nodes register and another discovers them a page at a time', async () => {
  const registrants = [await node(), await node(), await node()];
  for (const registrant of registrants) {
    const answer = await register(registrant, daemon.address, NS, { ttl: 7200 });
    assert.equal(answer.status, Status.OK, answer.statusText);
    assert.equal(answer.ttl, 7200);
  }
  // Without a TTL the spec's default of two hours applies.
  const other = await node();
  const defaulted = await register(other, daemon.address, 'goop-test/other');
  assert.equal(defaulted.status, Status.OK, defaulted.statusText);
  assert.equal(defaulted.ttl, 7200);

  const seeker = await node();
  const first = await discover(seeker, daemon.address, NS, { limit: 2 });
  assert.equal(first.status, Status.OK, first.statusText);
  assert.equal(first.registrations.length, 2);
  assert.ok(first.cookie?.length > 0, 'a cookie to go on with');
  for (const registration of first.registrations) {
    assert.equal(registration.ns, NS);
    assert.ok(registration.ttl > 7100 && registration.ttl <= 7200, `ttl ${registration.ttl}`);
  }
  const second = await discover(seeker, daemon.address, NS, { limit: 2, cookie: first.cookie });
  assert.equal(second.registrations.length, 1);
  const seen = [...await discoveredPeers(first), ...await discoveredPeers(second)];
  assert.deepEqual(seen.sort(), registrants.map((r) => r.peerId.toString()).sort(),
    'every registrant once, each record verified by js-libp2p');

  const caughtUp = await discover(seeker, daemon.address, NS, { cookie: second.cookie });
  assert.equal(caughtUp.status, Status.OK);
  assert.equal(caughtUp.registrations.length, 0, 'nothing new yet');
  const late = await node();
  assert.equal((await register(late, daemon.address, NS)).status, Status.OK);
  const fresh = await discover(seeker, daemon.address, NS, { cookie: caughtUp.cookie });
  assert.deepEqual(await discoveredPeers(fresh), [late.peerId.toString()], 'only what is new');

  // Without a namespace: everything, the other namespace included.
  const all = await discover(seeker, daemon.address, undefined);
  assert.equal(all.registrations.length, 5);

  await unregister(registrants[0], daemon.address, NS);
  const afterUnregister = await discoveredPeers(await discover(seeker, daemon.address, NS));
  assert.ok(!afterUnregister.includes(registrants[0].peerId.toString()), 'unregistered');
  assert.equal(afterUnregister.length, 3);
});

test('a bad cookie is refused with E_INVALID_COOKIE', async () => {
  const seeker = await node();
  const answer = await discover(seeker, daemon.address, NS, { cookie: new Uint8Array([1, 2, 3]) });
  assert.equal(answer.status, Status.E_INVALID_COOKIE);
  assert.equal(answer.registrations.length, 0);
});

test('a record with a bad signature is refused', async () => {
  const forger = await node();
  const record = await signedRecord(forger);
  // The signature is the envelope's last field: flip a bit of its last byte.
  const forged = Uint8Array.from(record);
  forged[forged.length - 1] ^= 0x01;
  const answer = await register(forger, daemon.address, 'goop-test/forged', { record: forged });
  assert.equal(answer.status, Status.E_INVALID_SIGNED_PEER_RECORD, answer.statusText);
  const found = await discover(forger, daemon.address, 'goop-test/forged');
  assert.equal(found.registrations.length, 0);
});

test("a peer cannot register another peer's record", async () => {
  const victim = await node();
  const impostor = await node();
  const answer = await register(impostor, daemon.address, 'goop-test/forged',
    { record: await signedRecord(victim) });
  assert.equal(answer.status, Status.E_NOT_AUTHORIZED, answer.statusText);
});

test('bad TTLs and namespaces are refused as the spec says', async () => {
  const peer = await node();
  assert.equal((await register(peer, daemon.address, NS, { ttl: 60 })).status, Status.E_INVALID_TTL);
  assert.equal((await register(peer, daemon.address, NS, { ttl: 73 * 3600 })).status, Status.E_INVALID_TTL);
  assert.equal((await register(peer, daemon.address, 'n'.repeat(256))).status, Status.E_INVALID_NAMESPACE);
});

test('operators see the registrations in /rendezvous.json and /metrics', async () => {
  const view = await (await fetch(`${daemon.url}/rendezvous.json`)).json();
  const ns = view.namespaces.find((n) => n.namespace === NS);
  assert.ok(ns, JSON.stringify(view));
  assert.equal(ns.registrations.length, 3);
  for (const registration of ns.registrations) {
    assert.match(registration.peer_id, /^12D3KooW/);
    assert.deepEqual(registration.addrs, ['/ip4/192.0.2.1/tcp/4001']);
    assert.ok(registration.ttl_remaining > 0);
  }
  const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(metrics, /^goop_rendezvous_registrations 4$/m);
  assert.match(metrics, /^goop_rendezvous_namespaces 2$/m);
  assert.match(metrics, /^goop_rendezvous_requests_total\{type="discover"\} \d+$/m);
  assert.match(metrics, /^goop_rendezvous_refusals_total\{status="E_INVALID_SIGNED_PEER_RECORD"\} 1$/m);
  assert.match(metrics, /^goop_rendezvous_refusals_total\{status="E_INVALID_COOKIE"\} 1$/m);
});
