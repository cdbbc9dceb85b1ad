// Regenerates docs/dashboard.png: a real server, about 20 peers that join, heartbeat, change
// labels, go quiet and leave over ~45 s (so the chart and the feed have something to show).
//
//   node tests/browser/screenshot.mjs [goop-rendezvous binary] [output png]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakePeerId, launchChromium, publish, sleep, startServer } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const binary = process.argv[2] || path.join(root, 'build-dashboard/server/goop-rendezvous');
const output = process.argv[3] || path.join(root, 'docs/dashboard.png');

const labels = [
  'alice · laptop', 'bob-desktop', 'build-runner-03', 'carol (phone)', 'dave @ home', 'eu-relay-1',
  'frankfurt-gw', 'grace · studio', 'heidi-nas', 'ivan pixel 8', 'judy · work', 'kiosk-lobby',
  'mallory test', 'nas-backup', 'oscar mbp', 'peggy', 'quentin-rpi', 'rupert · tablet', 'sybil', 'trent vm',
  'us-east relay', 'victor',
];
const versions = ['0.9.2', '0.9.2', '0.9.1', '0.10.0-rc1'];

function message(i, type, content = labels[i]) {
  const msg = { type, peerId: fakePeerId(i + 7), content };
  if (i % 3 !== 2) {
    msg.addrs = [`/ip4/192.168.${i % 4}.${20 + i}/tcp/4001`, `/ip4/203.0.113.${40 + i}/udp/4001/quic-v1`];
    if (i % 4 === 0) msg.addrs.push(`/ip6/2001:db8::${(i + 10).toString(16)}/tcp/4001`);
  }
  if (i % 5 !== 4) msg.goopClientVersion = versions[i % versions.length];
  if (i === 7) msg.email = 'grace@example.org';
  return msg;
}

const server = await startServer(binary, { args: ['--peer-ttl', '60s'] });
const browser = await launchChromium();
try {
  const online = new Set();
  const join = async (i) => {
    online.add(i);
    await publish(server, message(i, 'online'));
  };
  for (let i = 0; i < 6; i++) await join(i);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(`${server.url}/`);

  const quiet = 4; // stops heartbeating after its first message: shows the "quiet" badge
  let next = 6;
  for (let second = 0; second < 44; second++) {
    if (second % 2 === 0 && next < labels.length) await join(next++);
    if (second === 17 || second === 31) {
      const leaving = second === 17 ? 12 : 2;
      online.delete(leaving);
      await publish(server, message(leaving, 'offline', ''));
    }
    if (second === 25) {
      labels[1] = 'bob-desktop (away)';
      await publish(server, message(1, 'update'));
    }
    if (second % 5 === 0) {
      for (const i of online) if (i !== quiet) await publish(server, message(i, 'update'));
    }
    await sleep(1000);
  }
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await server.stop();
}
