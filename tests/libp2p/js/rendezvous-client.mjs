// A rendezvous client for the tests, written from libp2p/specs rendezvous/README.md with
// js-libp2p's own tools (protons-runtime codecs, length-prefixed streams, @libp2p/peer-record
// to sign records): no published rendezvous client runs on libp2p 1.x and Node.js 18 (the
// @canvas-js/libp2p-rendezvous releases need libp2p 2.x and a native sqlite build).
import { spawn } from 'node:child_process';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { decodeMessage, encodeMessage, message } from 'protons-runtime';

export const PROTOCOL = '/rendezvous/1.0.0';
export const Type = { REGISTER: 0, REGISTER_RESPONSE: 1, UNREGISTER: 2, DISCOVER: 3, DISCOVER_RESPONSE: 4 };
export const Status = {
  OK: 0, E_INVALID_NAMESPACE: 100, E_INVALID_SIGNED_PEER_RECORD: 101, E_INVALID_TTL: 102,
  E_INVALID_COOKIE: 103, E_NOT_AUTHORIZED: 200, E_INTERNAL_ERROR: 300, E_UNAVAILABLE: 400,
};

// Message.Register: ns = 1, signedPeerRecord = 2, ttl = 3 (int64 seconds).
const Register = message((obj, w, opts = {}) => {
  if (opts.lengthDelimited !== false) w.fork();
  if (obj.ns != null) { w.uint32(10); w.string(obj.ns); }
  if (obj.signedPeerRecord != null) { w.uint32(18); w.bytes(obj.signedPeerRecord); }
  if (obj.ttl != null) { w.uint32(24); w.int64(BigInt(obj.ttl)); }
  if (opts.lengthDelimited !== false) w.ldelim();
}, (reader, length) => {
  const obj = {};
  const end = length == null ? reader.len : reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: obj.ns = reader.string(); break;
      case 2: obj.signedPeerRecord = reader.bytes(); break;
      case 3: obj.ttl = Number(reader.int64()); break;
      default: reader.skipType(tag & 7);
    }
  }
  return obj;
});

// Message.RegisterResponse: status = 1, statusText = 2, ttl = 3.
const RegisterResponse = message(() => { throw new Error('clients only read it'); }, (reader, length) => {
  const obj = { status: 0 };
  const end = length == null ? reader.len : reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: obj.status = reader.int32(); break;
      case 2: obj.statusText = reader.string(); break;
      case 3: obj.ttl = Number(reader.int64()); break;
      default: reader.skipType(tag & 7);
    }
  }
  return obj;
});

// Message.Unregister: ns = 1, id = 2. Message.Discover: ns = 1, limit = 2, cookie = 3.
const Unregister = message((obj, w, opts = {}) => {
  if (opts.lengthDelimited !== false) w.fork();
  if (obj.ns != null) { w.uint32(10); w.string(obj.ns); }
  if (obj.id != null) { w.uint32(18); w.bytes(obj.id); }
  if (opts.lengthDelimited !== false) w.ldelim();
}, () => { throw new Error('clients only write it'); });
const Discover = message((obj, w, opts = {}) => {
  if (opts.lengthDelimited !== false) w.fork();
  if (obj.ns != null) { w.uint32(10); w.string(obj.ns); }
  if (obj.limit != null) { w.uint32(16); w.int64(BigInt(obj.limit)); }
  if (obj.cookie != null) { w.uint32(26); w.bytes(obj.cookie); }
  if (opts.lengthDelimited !== false) w.ldelim();
}, () => { throw new Error('clients only write it'); });

// Message.DiscoverResponse: registrations = 1, cookie = 2, status = 3, statusText = 4.
const DiscoverResponse = message(() => { throw new Error('clients only read it'); }, (reader, length) => {
  const obj = { registrations: [], status: 0 };
  const end = length == null ? reader.len : reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: obj.registrations.push(Register.decode(reader, reader.uint32())); break;
      case 2: obj.cookie = reader.bytes(); break;
      case 3: obj.status = reader.int32(); break;
      case 4: obj.statusText = reader.string(); break;
      default: reader.skipType(tag & 7);
    }
  }
  return obj;
});

// Message: type = 1, register = 2, registerResponse = 3, unregister = 4, discover = 5,
// discoverResponse = 6.
const Message = message((obj, w, opts = {}) => {
  if (opts.lengthDelimited !== false) w.fork();
  w.uint32(8); w.int32(obj.type);
  if (obj.register != null) { w.uint32(18); Register.encode(obj.register, w); }
  if (obj.unregister != null) { w.uint32(34); Unregister.encode(obj.unregister, w); }
  if (obj.discover != null) { w.uint32(42); Discover.encode(obj.discover, w); }
  if (opts.lengthDelimited !== false) w.ldelim();
}, (reader, length) => {
  const obj = { type: 0 };
  const end = length == null ? reader.len : reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: obj.type = reader.int32(); break;
      case 3: obj.registerResponse = RegisterResponse.decode(reader, reader.uint32()); break;
      case 6: obj.discoverResponse = DiscoverResponse.decode(reader, reader.uint32()); break;
      default: reader.skipType(tag & 7);
    }
  }
  return obj;
});

// Starts the daemon with a libp2p host on free loopback ports; resolves with both addresses.
export function startDaemon(binary, keyFile, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', '127.0.0.1:0', '--libp2p-listen', '/ip4/127.0.0.1/tcp/0',
      '--libp2p-key', keyFile, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`the daemon did not start:\n${log}`)); }, 10000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the daemon exited with ${code}:\n${log}`)); });
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const libp2p = /libp2p listening on (\S+)/.exec(log);
      const http = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (!libp2p || !http) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({
        proc, address: multiaddr(libp2p[1]), url: http[1], log: () => log,
        stop() {
          if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
          const exited = new Promise((done) => proc.once('exit', done));
          proc.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

export function jsNode() {
  return createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncryption: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
}

// The node's own peer record, signed with its key (RFC 0002/0003 via @libp2p/peer-record).
export async function signedRecord(node, addresses = ['/ip4/192.0.2.1/tcp/4001']) {
  const record = new PeerRecord({ peerId: node.peerId, multiaddrs: addresses.map((a) => multiaddr(a)) });
  return (await RecordEnvelope.seal(record, node.peerId)).marshal();
}

// One request and its answer on a new stream, as the spec's clients do.
async function exchange(node, address, request, expectAnswer = true) {
  const stream = await node.dialProtocol(address, PROTOCOL);
  const lp = lpStream(stream);
  await lp.write(encodeMessage(request, Message));
  if (!expectAnswer) {
    await stream.close();
    return undefined;
  }
  const answer = decodeMessage(await lp.read(), Message);
  await stream.close();
  return answer;
}

export async function register(node, address, ns, { ttl, record } = {}) {
  const answer = await exchange(node, address, {
    type: Type.REGISTER,
    register: { ns, signedPeerRecord: record ?? await signedRecord(node), ttl },
  });
  if (answer.type !== Type.REGISTER_RESPONSE) throw new Error(`unexpected answer type ${answer.type}`);
  return answer.registerResponse;
}

export async function unregister(node, address, ns) {
  await exchange(node, address, { type: Type.UNREGISTER, unregister: { ns, id: node.peerId.toBytes() } }, false);
}

export async function discover(node, address, ns, { limit, cookie } = {}) {
  const answer = await exchange(node, address, { type: Type.DISCOVER, discover: { ns, limit, cookie } });
  if (answer.type !== Type.DISCOVER_RESPONSE) throw new Error(`unexpected answer type ${answer.type}`);
  return answer.discoverResponse;
}

// The peer IDs in a DISCOVER answer, each record opened and its signature checked by js-libp2p.
export async function discoveredPeers(response) {
  const peers = [];
  for (const registration of response.registrations) {
    const envelope = await RecordEnvelope.openAndCertify(registration.signedPeerRecord, PeerRecord.DOMAIN);
    const record = PeerRecord.createFromProtobuf(envelope.payload);
    if (!record.peerId.equals(envelope.peerId)) throw new Error('a record of someone else');
    peers.push(record.peerId.toString());
  }
  return peers;
}
