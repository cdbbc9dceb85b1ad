// The web dashboard in Debian's headless Chromium against a real goop-rendezvous.
//
//   node dashboard.test.mjs <path to goop-rendezvous> <artifact dir>
//
// Each test builds on the page state the previous one left, so they run in order.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fakePeerId, launchChromium, publish, publishAll, sleep, startServer } from './support.mjs';

const [binary, artifactDir = '.'] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node dashboard.test.mjs <goop-rendezvous binary> [artifact dir]');
  process.exit(2);
}
mkdirSync(artifactDir, { recursive: true });

const XSS = '<img src=x onerror=alert(1)>';
const PEER_COUNT = 1000;
const BURST = 500;
// Generous bounds for a loaded 2-core machine; the measured figures are printed below.
// GOOP_TIME_FACTOR stretches every bound and wait for slower builds (the sanitizer job sets 3).
const SLOW = Number(process.env.GOOP_TIME_FACTOR || 1);
const LOAD_BOUND_MS = 10000 * SLOW;
const BURST_BOUND_MS = 3000 * SLOW;
const FRAME_BOUND_MS = 250 * SLOW;

let server;
let browser;
let page;
const dialogs = [];
const pageErrors = [];

const rowSelector = (id) => `#peer-rows tr[data-peer-id="${id}"]`;

function waitForPeer(id, present, timeout) {
  return page.waitForFunction(
    ([peerId, wanted]) => [...document.querySelectorAll('#peer-rows tr')].some((tr) => tr.dataset.peerId === peerId) === wanted,
    [id, present], { timeout });
}

function waitForText(selector, text, timeout) {
  return page.waitForFunction(
    ([sel, wanted]) => document.querySelector(sel)?.textContent.includes(wanted), [selector, text], { timeout });
}

const text = (selector) => page.locator(selector).first().textContent();

before(async () => {
  server = await startServer(binary, { args: ['--peer-ttl', '2s'] });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${server.url}/`);
  await waitForText('#connection-text', 'live', 10000 * SLOW);
});

after(async () => {
  if (page) await page.screenshot({ path: path.join(artifactDir, 'dashboard-test.png') }).catch(() => {});
  await browser?.close();
  await server?.stop();
  assert.deepEqual(pageErrors, [], 'the page threw');
});

test('serves the dashboard and its assets with content types', async () => {
  for (const [asset, type] of [['/', 'text/html'], ['/assets/dashboard.js', 'text/javascript'],
    ['/assets/dashboard.css', 'text/css'], ['/assets/logo.svg', 'image/svg+xml']]) {
    const response = await fetch(server.url + asset);
    assert.equal(response.status, 200, asset);
    assert.ok(response.headers.get('content-type').startsWith(type), `${asset}: ${response.headers.get('content-type')}`);
  }
});

test('a published peer appears within 1 s with its label and extra fields', async () => {
  const id = fakePeerId(1);
  await publish(server, {
    type: 'online', peerId: id, content: 'alice laptop',
    addrs: ['/ip4/192.168.1.20/tcp/4001', '/ip4/192.168.1.20/udp/4001/quic-v1'], goopClientVersion: '0.9.2',
  });
  await waitForPeer(id, true, 1000);
  const row = page.locator(rowSelector(id));
  assert.equal(await row.locator('td.col-label').textContent(), 'alice laptop');
  assert.equal(await row.locator('code').getAttribute('title'), id);
  assert.ok((await row.locator('code').textContent()).length < id.length, 'the ID is shortened');
  assert.match(await row.locator('td.col-details').textContent(), /goop 0\.9\.2.*\/ip4\/192\.168\.1\.20\/tcp\/4001.*\+1 addr/);
  assert.equal(await row.locator('.badge').textContent(), 'online');
  assert.match(await row.locator('td.col-seen').textContent(), /just now|\d s ago/);
  assert.equal(await text('#peer-count'), '1');
  await waitForText('#feed', 'alice laptop', 1000);
});

test('an offline message removes the peer', async () => {
  const id = fakePeerId(1);
  await publish(server, { type: 'offline', peerId: id });
  await waitForPeer(id, false, 1000);
  assert.equal(await text('#peer-count'), '0');
  assert.equal(await page.locator('#feed li[data-kind="left"]').count(), 1);
});

test('a silent peer is removed when the server expires it', async () => {
  const id = fakePeerId(2);
  const published = Date.now();
  await publish(server, { type: 'online', peerId: id, content: 'goes quiet' });
  await waitForPeer(id, true, 1000);
  await waitForPeer(id, false, 10000 * SLOW);
  assert.ok(Date.now() - published >= 1500, 'removed only after the 2 s ttl');
});

test('the server log is shown and follows new lines', async () => {
  await waitForText('#log', `peer "${fakePeerId(2)}" expired`, 10000 * SLOW);
});

// A TCP relay between the page and the server that the test can cut, as a proxy or a network
// that drops connections would.
async function startCutter(targetPort) {
  const sockets = new Set();
  const relay = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', drop);
      socket.on('close', () => {
        sockets.delete(socket);
        drop();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${relay.address().port}`,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      this.cut();
      relay.close();
    },
  };
}

test('after a dropped connection the page resumes: the missed events are applied, no reload', async () => {
  const cutter = await startCutter(server.port);
  const second = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  second.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await second.goto(`${cutter.url}/`);
    await second.waitForFunction(() => document.querySelector('#connection-text')?.textContent === 'live', null,
      { timeout: 10000 * SLOW });
    const leaving = fakePeerId(20);
    const arriving = fakePeerId(21);
    await publish(server, { type: 'online', peerId: leaving, content: 'leaves while the page is away' });
    await second.waitForSelector(rowSelector(leaving), { timeout: 2000 * SLOW });
    cutter.cut();
    // Missed while away: one peer leaves, one arrives.
    await publish(server, { type: 'offline', peerId: leaving });
    await publish(server, { type: 'online', peerId: arriving, content: 'arrived while the page was away' });
    await second.waitForFunction(() => document.querySelector('#connection-text')?.textContent === 'live · resumed',
      null, { timeout: 10000 * SLOW });
    await second.waitForSelector(rowSelector(arriving), { timeout: 2000 * SLOW });
    await second.waitForSelector(rowSelector(leaving), { state: 'detached', timeout: 2000 * SLOW });
    const feed = await second.locator('#feed').textContent();
    assert.match(feed, /resumed where the stream broke off, \d+ missed events? replayed/);
    assert.doesNotMatch(feed, /could not resume/);
  } finally {
    await second.close();
    cutter.close();
  }
});

test('after a server restart it cannot resume: it says so and shows the truth from a snapshot', async () => {
  const port = server.port;
  const stale = fakePeerId(3);
  await publish(server, { type: 'online', peerId: stale, content: 'before restart' });
  await waitForPeer(stale, true, 1000);
  await server.stop();
  await waitForText('#connection-text', 'reconnecting', 5000);
  // The rest of the tests need peers that outlive them.
  server = await startServer(binary, { port, args: ['--peer-ttl', '120s'] });
  assert.equal(server.port, port);
  const restarted = Date.now();
  // Publishes go on while the page reconnects.
  const fresh = fakePeerId(4);
  const busy = Array.from({ length: 40 }, (_, i) => ({ type: 'update', peerId: fakePeerId(100 + (i % 8)), content: `busy ${i}` }));
  await Promise.all([
    publish(server, { type: 'online', peerId: fresh, content: 'after restart' }),
    publishAll(server, busy, 2),
  ]);
  await waitForText('#connection-text', 'live', 15000);
  await waitForPeer(fresh, true, 2000 * SLOW);
  // The peer from before the restart is gone: the new server could not resume the page's
  // stream (its history went with the old process) and sent a snapshot instead.
  await waitForPeer(stale, false, 2000 * SLOW);
  await waitForText('#feed', 'could not resume the stream (an event ID of an earlier run', 2000 * SLOW);
  const rows = await (await fetch(`${server.url}/peers.json`)).json();
  await page.waitForFunction((ids) => {
    const shown = [...document.querySelectorAll('#peer-rows tr')].map((tr) => tr.dataset.peerId).sort();
    return JSON.stringify(shown) === JSON.stringify(ids);
  }, rows.map((row) => row.peer_id).sort(), { timeout: 2000 * SLOW });
  console.log(`# recovered ${Date.now() - restarted} ms after the server came back`);
  // The tests after this one count peers: the busy ones leave.
  await publishAll(server, Array.from({ length: 8 }, (_, i) => ({ type: 'offline', peerId: fakePeerId(100 + i) })), 2);
  await waitForPeer(fakePeerId(107), false, 2000 * SLOW);
});

test('a peer named with HTML stays inert text', async () => {
  await publish(server, { type: 'online', peerId: XSS, content: XSS, email: XSS, addrs: [XSS] });
  await waitForPeer(XSS, true, 1000);
  await waitForText('#log', XSS, 10000 * SLOW);
  await page.waitForTimeout(300); // time for an onerror handler to fire if an <img> had been made
  assert.deepEqual(dialogs, []);
  assert.equal(await page.locator('img:not(.brand img)').count(), 0, 'no <img> element was created');
  const row = page.locator(rowSelector(XSS));
  assert.equal(await row.locator('td.col-label').textContent(), XSS);
  assert.equal(await row.locator('code').getAttribute('title'), XSS);
  assert.match(await row.locator('td.col-details').textContent(), /email <img src=x onerror=alert\(1\)>/);
  assert.ok((await text('#feed')).includes(XSS));
});

test(`${PEER_COUNT} peers and a burst of ${BURST} events apply quickly and in place`, async () => {
  const ids = Array.from({ length: PEER_COUNT }, (_, i) => fakePeerId(1000 + i));
  const expected = String(PEER_COUNT + 2); // plus "after restart" and the HTML-named peer
  await page.evaluate(() => { window.goopDashboard.stats.longestFlushMs = 0; });
  const appliedBefore = await page.evaluate(() => window.goopDashboard.stats.applied);
  let started = Date.now();
  await publishAll(server, ids.map((id, i) => ({
    type: 'online', peerId: id, content: `node ${i}`, addrs: [`/ip4/10.0.${i >> 8}.${i & 255}/tcp/4001`],
    goopClientVersion: '0.9.2',
  })));
  const loadPosted = Date.now() - started;
  await waitForText('#peer-count', expected, LOAD_BOUND_MS);
  const loadMs = Date.now() - started;
  const loadFlushMs = await page.evaluate(() => window.goopDashboard.stats.longestFlushMs);
  // The peers have addrs and no WebSocket: the server makes a punch hint for everyone for each
  // pair, about a million, which the page asks not to get (punch=0).
  const applied = await page.evaluate(() => window.goopDashboard.stats.applied) - appliedBefore;
  assert.ok(applied <= PEER_COUNT, `the page took ${applied} messages for ${PEER_COUNT} events`);

  const firstRow = await page.locator(rowSelector(ids[0])).elementHandle();
  await page.evaluate(() => { window.goopDashboard.stats.longestFlushMs = 0; });
  started = Date.now();
  await publishAll(server, ids.slice(0, BURST).map((id, i) => ({ type: 'update', peerId: id, content: `burst ${i}` })));
  const burstPosted = Date.now() - started;
  await page.waitForFunction((n) => {
    let seen = 0;
    for (const td of document.querySelectorAll('#peer-rows td.col-label')) if (td.textContent.startsWith('burst ')) seen++;
    return seen === n;
  }, BURST, { timeout: BURST_BOUND_MS + burstPosted });
  const burstMs = Date.now() - started;
  const longestFlushMs = await page.evaluate(() => window.goopDashboard.stats.longestFlushMs);

  console.log(`# ${PEER_COUNT} peers: published in ${loadPosted} ms, all shown ${loadMs} ms after the first POST, `
    + `longest single frame of DOM work ${loadFlushMs.toFixed(1)} ms`);
  console.log(`# burst of ${BURST} updates: published in ${burstPosted} ms, all applied ${burstMs} ms after the first POST, `
    + `${burstMs - burstPosted} ms after the last; longest single frame of DOM work ${longestFlushMs.toFixed(1)} ms`);
  assert.ok(burstMs - burstPosted < BURST_BOUND_MS, `burst applied ${burstMs - burstPosted} ms after the last POST`);
  assert.ok(longestFlushMs < FRAME_BOUND_MS, `longest frame ${longestFlushMs} ms`);
  assert.equal(await page.locator('#peer-rows tr').count(), PEER_COUNT + 2);
  assert.ok(await firstRow.evaluate((tr) => tr.isConnected), 'rows are updated in place, not rebuilt');
  assert.equal(await text('#peer-count'), expected);

  await page.fill('#filter', 'burst 499');
  await waitForText('#filter-count', `1 of ${expected}`, 2000 * SLOW);
  assert.equal(await page.locator('#peer-rows tr:not([hidden])').count(), 1);
  await page.fill('#filter', '');
  await page.waitForFunction(() => document.querySelector('#filter-count').textContent === '', null, { timeout: 2000 * SLOW });
  assert.equal(await page.locator('#peer-rows tr:not([hidden])').count(), PEER_COUNT + 2);
});

test('the theme toggle switches between light and dark', async () => {
  const before = await page.evaluate(() => document.documentElement.dataset.effectiveTheme);
  await page.click('#theme-toggle');
  const afterToggle = await page.evaluate(() => document.documentElement.dataset.effectiveTheme);
  assert.notEqual(afterToggle, before);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const toggled = await background();
  await page.click('#theme-toggle');
  assert.notEqual(await background(), toggled);
});

test("a peer on Chromium's own WebSocket is shown on a WebSocket and verified", async () => {
  const id = fakePeerId(7);
  await publish(server, { type: 'online', peerId: id, content: 'on a websocket', verificationToken: 'SECRET' });
  // Chromium as today's client: /ws with its own RFC 6455 implementation, heartbeats over it.
  const client = await browser.newPage();
  await client.goto(`${server.url}/healthz`);
  const first = await client.evaluate((peerId) => new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${location.host}/ws?peer_id=${peerId}`);
    window.goopSocket = socket;
    socket.onerror = () => reject(new Error('the WebSocket failed'));
    // Its own event: others' (heartbeats of earlier tests' peers) may come first.
    socket.onmessage = (event) => { if (JSON.parse(event.data).peerId === peerId) resolve(event.data); };
    socket.onopen = () => {
      const beat = () => socket.send(JSON.stringify({ type: 'update', peerId, content: 'on a websocket' }));
      beat();
      setInterval(beat, 500);
    };
  }), id);
  const event = JSON.parse(first);
  assert.equal(event.peerId, id);
  assert.equal(event.verified, true);
  assert.ok(!first.includes('SECRET'));

  // The server marks the row once the connection is taken over (a moment after the first
  // event); a dashboard loaded before that would only see it at its next 15 s refresh.
  const deadline = Date.now() + 5000 * SLOW;
  for (;;) {
    const rows = await (await fetch(`${server.url}/peers.json`)).json();
    if (rows.some((row) => row.peer_id === id && row.ws_connected)) break;
    assert.ok(Date.now() < deadline, '/peers.json never marked the peer on a WebSocket');
    await sleep(50);
  }
  // A fresh dashboard: the rows say who is on a WebSocket. Its frames come late, as on a busy
  // machine, so its /peers.json read returns before the snapshot is on screen.
  const dashboard = await browser.newPage();
  await dashboard.addInitScript(() => {
    const frame = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (callback) => setTimeout(() => frame(callback), 300);
  });
  await dashboard.goto(`${server.url}/`);
  // Once it has applied its first read of the rows the tag must show; how long that read takes
  // is the machine's business (on a loaded machine Chromium took 5 to 7 s for it).
  await dashboard.waitForFunction(() => window.goopDashboard.stats.rowReads > 0, null,
    { timeout: 30000 * SLOW });
  const row = dashboard.locator(`#peer-rows tr[data-peer-id="${id}"]`);
  assert.equal(await row.locator('.tag-ws').isHidden(), false, 'the row does not say WebSocket');
  assert.equal(await row.locator('.tag-verified').textContent(), '✓');
  await dashboard.fill('#filter', 'websocket');
  await dashboard.waitForFunction(() => document.querySelectorAll('#peer-rows tr:not([hidden])').length === 1,
    null, { timeout: 2000 * SLOW });
  await dashboard.screenshot({ path: path.join(artifactDir, 'dashboard-websocket.png') });
  await client.evaluate(() => window.goopSocket.close());
  await client.close();
  await dashboard.close();
});

// The operators' door: a password file only the test can read.
function passwordFile(password) {
  const dir = mkdtempSync(path.join(tmpdir(), 'goop-door-'));
  const file = path.join(dir, 'admin-password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

test('with a password the public dashboard works, nobody is prompted, an operator signs in for the log', async () => {
  const password = 'browser door';
  const doorServer = await startServer(binary, { args: ['--admin-password-file', passwordFile(password)] });
  try {
    // A visitor: peers and events as before, the log says it is for operators, no prompt.
    const visitor = await browser.newContext();
    let prompted = 0;
    visitor.on('request', (request) => { if (request.headers().authorization) prompted++; });
    const visitorPage = await visitor.newPage();
    await visitorPage.goto(`${doorServer.url}/`);
    await visitorPage.waitForFunction(() => document.querySelector('#connection-text')?.textContent.includes('live'), null, { timeout: 10000 * SLOW });
    const id = fakePeerId(11);
    await publish(doorServer, { type: 'online', peerId: id, content: 'behind a door' });
    await visitorPage.waitForSelector(`#peer-rows tr[data-peer-id="${id}"]`, { timeout: 5000 * SLOW });
    await visitorPage.waitForFunction(() => document.querySelector('#log-status')?.textContent === 'operators only', null, { timeout: 10000 * SLOW });
    assert.equal(await visitorPage.locator('#log-sign-in').isVisible(), true);
    assert.equal(prompted, 0);
    await visitor.close();

    // An operator: the browser's own Basic prompt (Playwright answers it), then the log.
    const operator = await browser.newContext({ httpCredentials: { username: 'admin', password } });
    const operatorPage = await operator.newPage();
    await operatorPage.goto(`${doorServer.url}/`);
    await operatorPage.waitForFunction(() => document.querySelector('#log-status')?.textContent === 'operators only', null, { timeout: 10000 * SLOW });
    await operatorPage.click('#log-sign-in');
    await operatorPage.waitForFunction(() => document.querySelector('#log-status')?.textContent.startsWith('updated'), null, { timeout: 10000 * SLOW });
    assert.match(await operatorPage.locator('#log').textContent(), /behind a door|online/);
    assert.equal(await operatorPage.locator('#log-sign-in').isVisible(), false);
    await operator.close();
  } finally {
    await doorServer.stop();
  }
});

test('with --private the dashboard is behind the door and works through it', async () => {
  const password = 'private door';
  const doorServer = await startServer(binary, { args: ['--admin-password-file', passwordFile(password), '--private'] });
  try {
    // A stranger gets the challenge (asked outside the browser, which would prompt).
    const refused = await fetch(`${doorServer.url}/`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="goop-rendezvous"');

    const operator = await browser.newContext({ httpCredentials: { username: 'admin', password } });
    const operatorPage = await operator.newPage();
    const opened = await operatorPage.goto(`${doorServer.url}/`);
    assert.equal(opened.status(), 200);
    await operatorPage.waitForFunction(() => document.querySelector('#connection-text')?.textContent.includes('live'), null, { timeout: 10000 * SLOW });
    const id = fakePeerId(12);
    await publish(doorServer, { type: 'online', peerId: id, content: 'private peer' });
    await operatorPage.waitForSelector(`#peer-rows tr[data-peer-id="${id}"]`, { timeout: 5000 * SLOW });
    // The page was behind the door, so the log needs no sign-in.
    await operatorPage.waitForFunction(() => document.querySelector('#log-status')?.textContent.startsWith('updated'), null, { timeout: 10000 * SLOW });
    assert.equal(await operatorPage.locator('#log-sign-in').isVisible(), false);
    await operatorPage.screenshot({ path: path.join(artifactDir, 'dashboard-private.png') });
    await operator.close();
  } finally {
    await doorServer.stop();
  }
});
