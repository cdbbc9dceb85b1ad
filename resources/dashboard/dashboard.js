// goop-rendezvous dashboard: /events from a snapshot of the peers, resumed after a reconnect.
//
// Everything a peer sends goes into the page through textContent or attributes, never through
// innerHTML. Events are queued and applied once per animation frame; rows are kept in a Map
// and updated in place, so a burst of events costs one layout, not one per event.
'use strict';

const FEED_LIMIT = 200;
const FLASH_LIMIT = 5; // new rows highlighted per frame
const CHART_WINDOW_MS = 10 * 60 * 1000;
const CHART_MIN_WINDOW_MS = 30 * 1000;
const QUIET_AFTER_MS = 15 * 1000; // three missed 5 s heartbeats
const RECONNECT_MIN_MS = 250; // the back-off real Goop² clients use
const RECONNECT_MAX_MS = 8000;
const LOG_POLL_MS = 5000;
const LOG_AFTER_EVENTS_MS = 1000;
const TRANSPORT_POLL_MS = 15000; // who is on a WebSocket: only /peers.json rows say it
const RENDEZVOUS_POLL_MS = 5000;
const ROW_FIELDS = new Set(['peer_id', 'peerId', 'type', 'content', 'ts', 'last_seen', 'verified', 'ws_connected']);

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function shortId(id) {
  return id.length > 22 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function ago(ms, now) {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

function valueText(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

// ---------------------------------------------------------------- theme

const themeQuery = matchMedia('(prefers-color-scheme: dark)');

function effectiveTheme() {
  return document.documentElement.dataset.theme || (themeQuery.matches ? 'dark' : 'light');
}

function applyTheme() {
  const root = document.documentElement;
  const stored = localStorage.getItem('goop-theme');
  if (stored === 'light' || stored === 'dark') root.dataset.theme = stored;
  else delete root.dataset.theme;
  root.dataset.effectiveTheme = effectiveTheme();
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  $('theme-toggle').title = `Switch to the ${next} theme`;
  chart.draw();
}

function toggleTheme() {
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  // Choosing what the system prefers anyway means "follow the system" again.
  if (next === (themeQuery.matches ? 'dark' : 'light')) localStorage.removeItem('goop-theme');
  else localStorage.setItem('goop-theme', next);
  applyTheme();
}

// ---------------------------------------------------------------- peer rows

const peers = new Map(); // peerId -> { id, data, lastSeen, search, row }
let filterText = '';

// `ws`: whether the peer is on a WebSocket. Only /peers.json rows say it (events do not), so an
// event keeps what the last rows said.
function peerFromMessage(id, msg, lastSeen, ws) {
  const extras = [];
  for (const [key, value] of Object.entries(msg)) {
    if (!ROW_FIELDS.has(key) && value !== null && value !== '') extras.push([key, value]);
  }
  const content = typeof msg.content === 'string' ? msg.content : '';
  const verified = msg.verified === true;
  const search = [id, content, ws ? 'websocket' : '', verified ? 'verified' : 'unverified',
    ...extras.map(([k, v]) => `${k} ${valueText(v)}`)].join('\n').toLowerCase();
  return { type: String(msg.type), content, ts: Number(msg.ts) || 0, extras, lastSeen, search, verified, ws };
}

function createRow(peer) {
  const tr = el('tr');
  tr.dataset.peerId = peer.id;
  const cells = {
    status: el('td', 'col-status'),
    peer: el('td', 'col-peer'),
    label: el('td', 'col-label'),
    details: el('td', 'col-details'),
    ts: el('td', 'col-ts'),
    seen: el('td', 'col-seen'),
  };
  const badge = el('span', 'badge', 'online');
  const transport = el('span', 'tag tag-ws', 'WS');
  transport.title = 'On a WebSocket (/ws): today\'s client';
  const trust = el('span', 'tag');
  cells.status.append(badge, transport, trust);
  const idBox = el('div', 'peer-id');
  const code = el('code', '', shortId(peer.id));
  code.title = peer.id;
  const copy = el('button', 'copy', 'copy');
  copy.type = 'button';
  copy.title = 'Copy the full peer ID';
  idBox.append(code, copy);
  cells.peer.append(idBox);
  const details = el('div', 'details');
  cells.details.append(details);
  tr.append(cells.status, cells.peer, cells.label, cells.details, cells.ts, cells.seen);
  return { tr, cells, badge, transport, trust, details, rendered: {} };
}

// The client version first (short, and what operators look for), then addresses, then the rest.
const DETAIL_ORDER = { goopClientVersion: 0, addrs: 1 };

function detailChips(extras) {
  const chips = [];
  const rank = ([key]) => DETAIL_ORDER[key] ?? 2;
  for (const [key, value] of [...extras].sort((a, b) => rank(a) - rank(b))) {
    if (key === 'addrs' && Array.isArray(value)) {
      if (value.length === 0) continue;
      const first = el('span', 'chip chip-addr', valueText(value[0]));
      first.title = value.map(valueText).join('\n');
      chips.push(first);
      if (value.length > 1) {
        const more = el('span', 'chip chip-more', `+${value.length - 1} addr`);
        more.title = first.title;
        chips.push(more);
      }
    } else if (key === 'goopClientVersion') {
      chips.push(el('span', 'chip chip-version', `goop ${valueText(value)}`));
    } else {
      const text = valueText(value);
      const chip = el('span', 'chip');
      chip.append(el('span', 'chip-key', `${key} `), text.length > 40 ? `${text.slice(0, 40)}…` : text);
      chip.title = `${key}: ${text}`;
      chips.push(chip);
    }
  }
  return chips;
}

function renderRow(peer, now) {
  const row = peer.row;
  const r = row.rendered;
  const d = peer.data;
  if (r.content !== d.content) {
    r.content = d.content;
    row.cells.label.textContent = d.content || 'no label';
    row.cells.label.classList.toggle('is-empty', !d.content);
    row.cells.label.title = d.content;
  }
  const extrasKey = JSON.stringify(d.extras);
  if (r.extras !== extrasKey) {
    r.extras = extrasKey;
    row.details.replaceChildren(...detailChips(d.extras));
  }
  if (r.ts !== d.ts) {
    r.ts = d.ts;
    row.cells.ts.textContent = d.ts ? clock(d.ts) : '–';
    row.cells.ts.title = d.ts ? new Date(d.ts).toLocaleString() : '';
  }
  row.badge.title = `last message: ${d.type}`;
  if (r.ws !== d.ws) {
    r.ws = d.ws;
    row.transport.hidden = !d.ws;
  }
  if (r.verified !== d.verified) {
    r.verified = d.verified;
    row.trust.textContent = d.verified ? '✓' : 'unverified';
    row.trust.className = d.verified ? 'tag tag-verified' : 'tag tag-unverified';
    row.trust.title = d.verified ? 'Verified by the server' : 'Not verified by the server';
  }
  renderFreshness(peer, now);
  row.tr.hidden = !matchesFilter(peer);
}

function renderFreshness(peer, now) {
  const row = peer.row;
  setText(row.cells.seen, ago(peer.data.lastSeen, now));
  const quiet = now - peer.data.lastSeen > QUIET_AFTER_MS;
  if (row.rendered.quiet !== quiet) {
    row.rendered.quiet = quiet;
    row.badge.classList.toggle('is-quiet', quiet);
    row.badge.textContent = quiet ? 'quiet' : 'online';
  }
}

function matchesFilter(peer) {
  return !filterText || peer.data.search.includes(filterText);
}

function applyFilter() {
  filterText = $('filter').value.trim().toLowerCase();
  for (const peer of peers.values()) peer.row.tr.hidden = !matchesFilter(peer);
  renderCounts();
}

function renderCounts() {
  const total = peers.size;
  setText($('peer-count'), String(total));
  let shown = total;
  if (filterText) {
    shown = 0;
    for (const peer of peers.values()) if (matchesFilter(peer)) shown++;
  }
  setText($('filter-count'), filterText ? `${shown} of ${total}` : '');
  const empty = $('empty');
  empty.hidden = shown > 0;
  setText(empty, total === 0
    ? 'No peers online yet. Peers appear here as soon as they publish.'
    : `No peer matches “${$('filter').value.trim()}”.`);
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on a LAN address is not a secure context: fall back to a selection copy.
  const area = el('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

function onTableClick(event) {
  const button = event.target.closest('button.copy');
  if (!button) return;
  const id = button.closest('tr').dataset.peerId;
  copyText(id).then(() => {
    button.textContent = 'copied';
    button.classList.add('copied');
    setTimeout(() => {
      button.textContent = 'copy';
      button.classList.remove('copied');
    }, 1200);
  }, () => { button.textContent = 'failed'; });
}

// ---------------------------------------------------------------- activity feed and counters

const joins = []; // timestamps, last 10 minutes
const leaves = [];
const eventTimes = []; // timestamps, last 10 seconds

function pruneOlder(list, limit) {
  let i = 0;
  while (i < list.length && list[i] < limit) i++;
  if (i) list.splice(0, i);
}

function feedItem(kind, at, peerId, content) {
  const li = el('li');
  li.dataset.kind = kind;
  const time = el('time', '', clock(at));
  time.dateTime = new Date(at).toISOString();
  const what = el('span', 'what');
  if (peerId !== undefined) {
    const code = el('code', '', shortId(peerId));
    code.title = peerId;
    what.append(code);
    if (content) what.append(el('span', 'label', content));
  } else {
    what.textContent = content;
  }
  li.append(time, el('span', `kind kind-${kind}`, kind === 'heartbeat' ? 'beat' : kind), what);
  return li;
}

function prependFeed(items) {
  if (!items.length) return;
  const feed = $('feed');
  const fragment = document.createDocumentFragment();
  for (let i = items.length - 1; i >= 0 && i >= items.length - FEED_LIMIT; i--) fragment.append(items[i]);
  feed.prepend(fragment);
  while (feed.childElementCount > FEED_LIMIT) feed.lastElementChild.remove();
}

function systemNote(text) {
  prependFeed([feedItem('system', Date.now(), undefined, text)]);
}

// ---------------------------------------------------------------- applying events

let queue = []; // { msg, at }, { snapshot, at } and { rows, at } (/peers.json), applied in order
let flushScheduled = false;
const stats = { applied: 0, rowReads: 0, flushes: 0, longestFlushMs: 0 };

function scheduleFlush() {
  if (flushScheduled) return;
  flushScheduled = true;
  // Hidden tabs get no animation frames; keep the queue short there with a timer instead.
  if (document.hidden) setTimeout(flush, 1000);
  else requestAnimationFrame(flush);
}

function enqueue(item) {
  queue.push(item);
  scheduleFlush();
}

function flush() {
  flushScheduled = false;
  const started = performance.now();
  const batch = queue;
  queue = [];
  const now = Date.now();
  const changed = new Set();
  const removed = [];
  const feed = [];

  const remove = (peer) => {
    peers.delete(peer.id);
    changed.delete(peer);
    if (peer.row) removed.push(peer.row.tr);
  };
  const upsert = (id, msg, lastSeen, ws) => {
    let peer = peers.get(id);
    const isNew = !peer;
    if (isNew) {
      peer = { id, data: null, row: null, fromSnapshot: false };
      peers.set(id, peer);
    }
    peer.data = peerFromMessage(id, msg, lastSeen, ws ?? (peer.data ? peer.data.ws : false));
    changed.add(peer);
    return { peer, isNew };
  };

  for (const item of batch) {
    if (item.rows) {
      stats.rowReads++;
      for (const row of item.rows) {
        const peer = peers.get(row.peer_id);
        if (!peer) continue;
        const ws = row.ws_connected === true;
        const lastSeen = Math.max(peer.data.lastSeen, Number(row.last_seen) || 0);
        if (peer.data.ws === ws && peer.data.lastSeen === lastSeen) continue;
        peer.data = peerFromMessage(peer.id, row, lastSeen, ws);
        changed.add(peer);
      }
      continue;
    }
    if (item.snapshot) {
      // The peers online now, as the events that announced them (the rows' last_seen and
      // WebSocket flags come with the next /peers.json read).
      const seen = new Set();
      for (const msg of item.snapshot) {
        if (typeof msg.peerId !== 'string') continue;
        seen.add(msg.peerId);
        const ts = Number(msg.ts) || 0;
        const { peer, isNew } = upsert(msg.peerId, msg, ts > 0 ? Math.min(ts, item.at) : item.at);
        if (isNew) peer.fromSnapshot = true;
      }
      for (const peer of [...peers.values()]) if (!seen.has(peer.id)) remove(peer);
      continue;
    }
    const msg = item.msg;
    if (!msg || typeof msg.peerId !== 'string') continue;
    stats.applied++;
    eventTimes.push(item.at);
    if (msg.type === 'offline') {
      const peer = peers.get(msg.peerId);
      if (peer) remove(peer);
      leaves.push(item.at);
      feed.push(feedItem('left', item.at, msg.peerId, peer ? peer.data.content : ''));
    } else if (msg.type === 'online' || msg.type === 'update') {
      const before = peers.get(msg.peerId);
      const oldSearch = before ? before.data.search : '';
      const { peer, isNew } = upsert(msg.peerId, msg, item.at);
      if (isNew) joins.push(item.at);
      const kind = isNew ? 'joined' : (peer.data.search !== oldSearch ? 'updated' : 'heartbeat');
      // Heartbeats (an update that changes nothing) would drown joins and leaves: opt-in only.
      if (kind !== 'heartbeat' || $('show-heartbeats').checked) {
        feed.push(feedItem(kind, item.at, msg.peerId, peer.data.content));
      }
    }
  }

  for (const tr of removed) tr.remove();
  const tbody = $('peer-rows');
  const fresh = document.createDocumentFragment();
  const fromSnapshot = document.createDocumentFragment();
  // A highlight for a few new rows helps the eye; for a crowd it would only cost paint time.
  let highlights = FLASH_LIMIT;
  for (const peer of changed) {
    if (!peer.row) {
      peer.row = createRow(peer);
      // Snapshot rows keep the server's order; peers that join later go on top.
      if (peer.fromSnapshot) {
        fromSnapshot.append(peer.row.tr);
      } else {
        fresh.prepend(peer.row.tr);
        if (highlights-- > 0) {
          const tr = peer.row.tr;
          tr.classList.add('is-new');
          tr.addEventListener('animationend', () => tr.classList.remove('is-new'), { once: true });
        }
      }
    }
    renderRow(peer, now);
  }
  tbody.append(fromSnapshot);
  tbody.prepend(fresh);

  prependFeed(feed);
  renderCounts();
  renderRates(now);
  if (feed.length) scheduleLogRefresh();

  const took = performance.now() - started;
  stats.flushes++;
  stats.longestFlushMs = Math.max(stats.longestFlushMs, took);
}

function renderRates(now) {
  pruneOlder(joins, now - CHART_WINDOW_MS);
  pruneOlder(leaves, now - CHART_WINDOW_MS);
  pruneOlder(eventTimes, now - 10000);
  setText($('join-count'), String(joins.length));
  setText($('leave-count'), String(leaves.length));
  const rate = eventTimes.length / 10;
  setText($('event-rate'), rate >= 10 ? String(Math.round(rate)) : rate.toFixed(1));
}

// ---------------------------------------------------------------- connection

let source = null;
let snapshot = null; // the peers of a snapshot being received, until it goes live
let lastEventId = ''; // of the last event applied: a reconnect resumes after it
let backoff = RECONNECT_MIN_MS;
let everLive = false;
let lossNoted = false;

function setConnection(state, detail, label = state) {
  const box = $('connection');
  box.dataset.state = state;
  box.title = detail;
  setText($('connection-text'), label);
  $('peers-card').classList.toggle('is-stale', state === 'reconnecting');
}

// The stream starts with a snapshot of the peers (snapshot=1) and goes on with every event
// after it, with no gap. After a reconnect it resumes after the last event applied; when the
// server cannot (it restarted, or the page was away too long) it says so and sends a snapshot.
function connect() {
  // punch=0: the page has no use for hole-punching hints, N² of them when a crowd arrives.
  const resume = lastEventId ? `&lastEventId=${encodeURIComponent(lastEventId)}` : '';
  const es = new EventSource(`/events?snapshot=1&punch=0${resume}`);
  source = es;
  snapshot = null;
  es.onopen = () => {
    backoff = RECONNECT_MIN_MS;
  };
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };
  es.onmessage = (event) => {
    if (es !== source) return;
    const msg = parse(event);
    if (!msg) return;
    if (snapshot) {
      snapshot.push(msg);
      return;
    }
    if (event.lastEventId) lastEventId = event.lastEventId;
    enqueue({ msg, at: Date.now() });
  };
  es.addEventListener('reset', (event) => {
    if (es !== source) return;
    const info = parse(event) || {};
    systemNote(`The server could not resume the stream (${info.reason || 'no reason given'}): reloading the peers`);
  });
  es.addEventListener('snapshot', () => {
    if (es === source) snapshot = [];
  });
  es.addEventListener('live', (event) => {
    if (es !== source || !snapshot) return;
    const at = Date.now();
    enqueue({ snapshot, at });
    const count = snapshot.length;
    snapshot = null;
    lastEventId = event.lastEventId;
    wentLive(`${everLive ? 'Reconnected' : 'Connected'}: ${count} peer${count === 1 ? '' : 's'} online`,
      `Following /events since ${clock(at)}`, 'live');
    refreshTransports();
  });
  es.addEventListener('resumed', (event) => {
    if (es !== source) return;
    const replayed = (parse(event) || {}).replayed || 0;
    wentLive(`Reconnected: resumed where the stream broke off, ${replayed} missed event${replayed === 1 ? '' : 's'} replayed`,
      `Resumed at ${clock(Date.now())} after event ${lastEventId} (${replayed} replayed)`, 'live · resumed');
  });
  es.onerror = () => connectionLost(es);
}

function wentLive(note, detail, label) {
  everLive = true;
  lossNoted = false;
  setConnection('live', detail, label);
  systemNote(note);
  refreshLogs();
}

// EventSource retries on its own only sometimes (not after an HTTP error) and at its own pace;
// reconnecting here gives one behaviour: the clients' back-off, 250 ms doubling to 8 s.
function connectionLost(es) {
  if (es !== source) return;
  es.close();
  source = null;
  const delay = backoff;
  backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
  if (everLive) {
    setConnection('reconnecting', `Lost the event stream at ${clock(Date.now())}; retrying in ${delay} ms`);
    if (!lossNoted) systemNote('Connection to the server lost, reconnecting…');
    lossNoted = true;
  } else {
    setConnection('connecting', `Cannot reach the server yet; retrying in ${delay} ms`);
  }
  setTimeout(connect, delay);
}

// Events do not say when a peer's WebSocket opens or closes, nor when the server last heard
// from a peer before a snapshot; the rows do, so they are read again now and then, for that.
async function refreshTransports() {
  if (document.hidden || !everLive) return;
  let rows;
  try {
    const response = await fetch('/peers.json', { cache: 'no-store' });
    if (!response.ok) return;
    rows = await response.json();
  } catch {
    return;
  }
  // Queued behind the snapshot this read follows, which may not be applied yet.
  if (Array.isArray(rows)) enqueue({ rows, at: Date.now() });
}

// ---------------------------------------------------------------- libp2p rendezvous
//
// With a libp2p host the server is also a rendezvous point; /rendezvous.json (404 without a
// host) lists its registrations by namespace. The panel shows only while there are some.

let rendezvousKey = '';
let rendezvousServed = true; // until a 404 says this server has no libp2p host

function rendezvousEntry(registration) {
  const item = el('li', 'rendezvous-peer');
  item.dataset.peerId = registration.peer_id;
  const id = el('code', '', shortId(registration.peer_id));
  id.title = registration.peer_id;
  item.append(id);
  const addrs = registration.addrs || [];
  if (addrs.length) {
    const first = el('span', 'rendezvous-addr', addrs[0]);
    first.title = addrs.join('\n');
    item.append(first);
    if (addrs.length > 1) item.append(el('span', 'muted', `+${addrs.length - 1}`));
  }
  const minutes = Math.max(1, Math.round(registration.ttl_remaining / 60));
  item.append(el('span', 'muted rendezvous-ttl', `${minutes} min left`));
  return item;
}

function renderRendezvous(view) {
  const namespaces = Array.isArray(view.namespaces) ? view.namespaces : [];
  $('rendezvous-card').hidden = namespaces.length === 0;
  setText($('rendezvous-count'),
    `${view.total} in ${namespaces.length} namespace${namespaces.length === 1 ? '' : 's'}`);
  const groups = namespaces.map((ns) => {
    const group = el('div', 'rendezvous-namespace');
    group.dataset.namespace = ns.namespace;
    const title = el('h3', '', ns.namespace);
    title.append(el('span', 'muted', ` · ${ns.registrations.length}`));
    const list = el('ul', 'rendezvous-peers');
    list.append(...ns.registrations.map(rendezvousEntry));
    group.append(title, list);
    return group;
  });
  $('rendezvous').replaceChildren(...groups);
}

async function refreshRendezvous() {
  if (document.hidden || !rendezvousServed) return;
  let view;
  try {
    const response = await fetch('/rendezvous.json', { cache: 'no-store' });
    if (response.status === 404) rendezvousServed = false;
    if (!response.ok) return;
    view = await response.json();
  } catch {
    return;
  }
  const key = JSON.stringify(view);
  if (key === rendezvousKey) return;
  rendezvousKey = key;
  renderRendezvous(view);
}

// ---------------------------------------------------------------- server log
//
// The server has no log stream, only /logs.json (bounded). The page fetches it every 5 s while
// visible, and about a second after peer events, which is when new lines appear, so it reads
// as live without costing more than one small request per second.

let logKey = '';
let logTimer = 0;
// With --admin-password-file the log is for operators. The page asks without credentials
// (a 401 then prompts nobody) until the operator signs in, or when the page itself was behind
// the door (--private): then the browser already holds the credentials.
let logCredentials = 'omit';

async function detectPrivatePage() {
  try {
    const response = await fetch('/', { method: 'HEAD', cache: 'no-store', credentials: 'omit' });
    if (response.status === 401) logCredentials = 'same-origin';
  } catch {
    // the stream's reconnects say when the server is away
  }
}

function signInForLogs() {
  logCredentials = 'same-origin'; // the browser asks for the password once, then keeps it
  refreshLogs();
}

function scheduleLogRefresh() {
  if (!logTimer) logTimer = setTimeout(refreshLogs, LOG_AFTER_EVENTS_MS);
}

async function refreshLogs() {
  clearTimeout(logTimer);
  logTimer = 0;
  if (document.hidden) return;
  let lines;
  try {
    const response = await fetch('/logs.json', { cache: 'no-store', credentials: logCredentials });
    $('log-sign-in').hidden = response.status !== 401;
    if (response.status === 401) {
      setText($('log-status'), 'operators only');
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    lines = await response.json();
  } catch {
    setText($('log-status'), 'unavailable');
    return;
  }
  if (!Array.isArray(lines)) return;
  setText($('log-status'), `updated ${clock(Date.now())}`);
  const key = `${lines.length}\n${lines[0]}\n${lines[lines.length - 1]}`;
  if (key === logKey) return;
  logKey = key;
  const box = $('log');
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
  const fragment = document.createDocumentFragment();
  for (const line of lines) {
    const text = String(line);
    const div = el('div');
    const match = /^(\[[^\]]*\])(.*)$/s.exec(text);
    if (match) div.append(el('span', 'time', match[1]), match[2]);
    else div.textContent = text;
    fragment.append(div);
  }
  box.replaceChildren(fragment);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// ---------------------------------------------------------------- chart

const chart = {
  samples: [], // { t, n }, one per second
  started: Date.now(),

  sample(now) {
    this.samples.push({ t: now, n: peers.size });
    while (this.samples.length && this.samples[0].t < now - CHART_WINDOW_MS) this.samples.shift();
  },

  colors() {
    const css = (selector, prop) => getComputedStyle(document.querySelector(selector))[prop];
    return {
      line: css('.stat-primary .stat-value', 'color'),
      text: css('.muted', 'color'),
      grid: css('.card', 'borderTopColor'),
    };
  },

  draw() {
    const canvas = $('chart');
    if (!canvas || document.hidden) return;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const colors = this.colors();
    const now = Date.now();
    const span = Math.min(CHART_WINDOW_MS, Math.max(CHART_MIN_WINDOW_MS, now - this.started));
    setText($('chart-range'), span >= CHART_WINDOW_MS ? 'last 10 minutes' : 'since this page opened');
    const left = 40;
    const right = width - 12;
    const top = 14;
    const bottom = height - 24;
    const max = Math.max(4, ...this.samples.map((s) => s.n));
    const step = niceStep(max / 3);
    const yMax = Math.ceil(max / step) * step;
    const x = (t) => left + ((t - (now - span)) / span) * (right - left);
    const y = (n) => bottom - (n / yMax) * (bottom - top);

    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    g.textBaseline = 'middle';
    for (let v = 0; v <= yMax; v += step) {
      g.strokeStyle = colors.grid;
      g.beginPath();
      g.moveTo(left, Math.round(y(v)) + 0.5);
      g.lineTo(right, Math.round(y(v)) + 0.5);
      g.stroke();
      g.fillStyle = colors.text;
      g.textAlign = 'right';
      g.fillText(String(v), left - 8, y(v));
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const tick = [15, 30, 60, 120].map((s) => s * 1000).find((t) => span / t <= 6) || 120000;
    for (let t = tick; t < span - tick / 3; t += tick) {
      g.fillText(t < 60000 ? `−${t / 1000} s` : `−${t / 60000} min`, x(now - t), bottom + 7);
    }
    g.textAlign = 'right';
    g.fillText('now', right, bottom + 7);

    const points = this.samples.filter((s) => s.t >= now - span);
    if (!points.length) return;
    g.beginPath();
    points.forEach((s, i) => {
      if (i === 0) g.moveTo(x(s.t), y(s.n));
      else {
        g.lineTo(x(s.t), y(points[i - 1].n)); // a step line: counts change at events
        g.lineTo(x(s.t), y(s.n));
      }
    });
    g.lineTo(x(now), y(peers.size));
    g.strokeStyle = colors.line;
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.stroke();
    g.lineTo(x(now), bottom);
    g.lineTo(x(points[0].t), bottom);
    g.closePath();
    g.globalAlpha = 0.14;
    g.fillStyle = colors.line;
    g.fill();
    g.globalAlpha = 1;
  },
};

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

// ---------------------------------------------------------------- every second

function tick() {
  const now = Date.now();
  chart.sample(now);
  if (document.hidden) return;
  let quiet = 0;
  for (const peer of peers.values()) {
    if (peer.row) renderFreshness(peer, now);
    if (now - peer.data.lastSeen > QUIET_AFTER_MS) quiet++;
  }
  setText($('peer-note'), peers.size ? `${peers.size - quiet} active · ${quiet} quiet` : 'none yet');
  renderRates(now);
  chart.draw();
}

function start() {
  $('server-host').textContent = location.host;
  applyTheme();
  $('theme-toggle').addEventListener('click', toggleTheme);
  themeQuery.addEventListener('change', applyTheme);
  let filterTimer = 0;
  $('filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, 80);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === '/' && document.activeElement !== $('filter')) {
      event.preventDefault();
      $('filter').focus();
    }
  });
  $('peer-rows').addEventListener('click', onTableClick);
  $('log-sign-in').addEventListener('click', signInForLogs);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      refreshLogs();
      tick();
    }
  });
  window.addEventListener('resize', () => chart.draw());
  renderCounts();
  chart.sample(Date.now());
  chart.draw();
  setInterval(tick, 1000);
  setInterval(refreshLogs, LOG_POLL_MS);
  setInterval(refreshTransports, TRANSPORT_POLL_MS);
  setInterval(refreshRendezvous, RENDEZVOUS_POLL_MS);
  refreshRendezvous();
  detectPrivatePage().then(connect);
}

// For tests and for curious operators: how much work applying events took.
window.goopDashboard = { stats, peers };

start();
