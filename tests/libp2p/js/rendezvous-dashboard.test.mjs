// The dashboard's rendezvous panel in Debian's headless Chromium: hidden while nobody is
// registered, then listing the namespace and the peer once a js-libp2p node registers.
//
//   node rendezvous-dashboard.test.mjs path/to/goop-rendezvous [artifact dir]
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The browser tests' Chromium launcher (playwright-core from tests/browser's packages).
import { launchChromium } from '../../browser/support.mjs';
import { Status, jsNode, register, startDaemon } from './rendezvous-client.mjs';

const [binary, artifactDir = '.'] = process.argv.slice(2);
assert.ok(binary, 'usage: node rendezvous-dashboard.test.mjs GOOP_RENDEZVOUS_BINARY [ARTIFACT_DIR]');
mkdirSync(artifactDir, { recursive: true });
const SLOW = Number(process.env.GOOP_TIME_FACTOR || 1);

const dir = mkdtempSync(join(tmpdir(), 'goop-rendezvous-panel-'));
let daemon;
let browser;
let page;
let node;

before(async () => {
  daemon = await startDaemon(binary, join(dir, 'libp2p.key'));
  node = await jsNode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

after(async () => {
  if (page) await page.screenshot({ path: join(artifactDir, 'rendezvous-panel.png') }).catch(() => {});
  await browser?.close();
  await node?.stop();
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the rendezvous panel shows a registration', async () => {
  await page.goto(`${daemon.url}/`);
  await page.waitForFunction(() => document.querySelector('#connection-text')?.textContent.includes('live'),
    null, { timeout: 10000 * SLOW });
  assert.equal(await page.locator('#rendezvous-card').isHidden(), true, 'hidden while empty');

  const answer = await register(node, daemon.address, 'goop-dashboard/panel');
  assert.equal(answer.status, Status.OK, answer.statusText);
  const peerId = node.peerId.toString();
  // The panel polls every 5 s.
  await page.waitForSelector(`#rendezvous li[data-peer-id="${peerId}"]`, { timeout: 8000 * SLOW });
  assert.equal(await page.locator('#rendezvous-card').isVisible(), true);
  const group = page.locator('#rendezvous .rendezvous-namespace[data-namespace="goop-dashboard/panel"]');
  assert.match(await group.locator('h3').textContent(), /^goop-dashboard\/panel · 1$/);
  assert.equal(await group.locator('code').getAttribute('title'), peerId);
  assert.equal(await group.locator('.rendezvous-addr').textContent(), '/ip4/192.0.2.1/tcp/4001');
  assert.match(await page.locator('#rendezvous-count').textContent(), /^1 in 1 namespace$/);
});
