// Shared by the browser test and the screenshot script: a real goop-rendezvous process on a
// loopback port, publishing over real HTTP, and Debian's Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

// Starts the server and resolves once it logs its port. `port` 0 picks a free one; a fixed port
// is retried for a while, since the previous process's socket may take a moment to go away.
export async function startServer(binary, { port = 0, args = [] } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(binary, port, args);
    } catch (error) {
      if (port === 0 || attempt >= 20) throw error;
      await sleep(250);
    }
  }
}

function startOnce(binary, port, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['-addr', `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => fail(new Error(`server did not start within 10 s:\n${log}`)), 10000);
    const fail = (error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(error);
    };
    proc.on('error', fail);
    proc.on('exit', (code) => fail(new Error(`server exited with ${code} before listening:\n${log}`)));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const match = LISTENING.exec(log);
      if (!match) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.stderr.removeAllListeners('data');
      proc.stderr.resume();
      const server = {
        proc,
        port: Number(match[1]),
        url: `http://127.0.0.1:${match[1]}`,
        // Kills the process (SIGKILL by default, like a crash) and waits until it is gone.
        stop(signal = 'SIGKILL') {
          if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
          const exited = new Promise((done) => proc.once('exit', done));
          proc.kill(signal);
          return exited;
        },
      };
      resolve(server);
    });
  });
}

export async function publish(server, message) {
  const response = await fetch(`${server.url}/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(message),
  });
  if (response.status !== 204) {
    throw new Error(`publish ${JSON.stringify(message).slice(0, 80)}: ${response.status} ${await response.text()}`);
  }
}

// Publishes in order per peer but several peers at once, like a crowd of real clients.
export async function publishAll(server, messages, concurrency = 16) {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) await publish(server, messages[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.GOOP_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// A libp2p Ed25519 peer ID look-alike ("12D3KooW" + 44 base58 characters), deterministic per seed.
export function fakePeerId(seed) {
  let x = (seed * 2654435761 + 12345) >>> 0;
  let id = '12D3KooW';
  for (let i = 0; i < 44; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    id += BASE58[(x >>> 16) % 58];
  }
  return id;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
