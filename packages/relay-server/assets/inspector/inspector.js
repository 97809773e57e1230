// The Wingman inspector page: a list of captured requests kept live over
// Server-Sent Events (/api/events), client-side filters, a detail view and
// replay. Captured data is untrusted (it came from viewers and the app): it
// only ever reaches the DOM as text nodes or data: image URLs.
'use strict';

/** Rows kept in the page, as the agent's default history (older ones drop off). */
const MAX_ROWS = 10000;
/** Bytes shown as a hex dump; the rest is summarised (a DOM of megabytes of hex helps nobody). */
const HEX_MAX_BYTES = 16 * 1024;

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
};

const state = { entries: [], selected: undefined, detail: undefined, tunnels: [], clears: 0 };

async function api(path, init) {
  const res = await fetch(path, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
  return body;
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function formatTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function filters() {
  const f = Object.fromEntries(new FormData($('#filters')));
  return {
    path: f.path.trim(),
    status: f.status.trim().toLowerCase(),
    method: f.method,
    transport: f.transport,
    tunnel: f.tunnel,
    header: f.header.trim().toLowerCase(),
  };
}

function matches(e, f) {
  if (f.path && !e.path.includes(f.path)) return false;
  if (f.method && e.method !== f.method) return false;
  if (f.transport && e.transport !== f.transport) return false;
  if (f.tunnel && e.tunnel !== f.tunnel) return false;
  if (f.status) {
    const s = String(e.status);
    if (/^[1-5]xx$/.test(f.status) ? s[0] !== f.status[0] : !s.startsWith(f.status)) return false;
  }
  // Headers are not in the summaries: the server filters them (see loadList).
  return true;
}

function row(e) {
  const status = e.status === 0 ? e.error || 'reset' : String(e.status) + (e.error ? ' ' + e.error : '');
  const tr = el(
    'tr',
    { 'data-id': String(e.id) },
    el('td', { class: 'muted', text: formatTime(e.startedAt) }),
    el('td', { text: e.websocket ? 'WS' : e.method }),
    el('td', { class: 'path', text: e.path, title: e.path }),
    el('td', { class: 's' + String(e.status)[0], text: status }),
    el('td', { text: formatSize(e.responseSize) }),
    el('td', { text: `${e.durationMs} ms` }),
    el('td', {
      class: 't-' + e.transport,
      text: e.transport + (e.verified ? ' · verified' : '') + (e.replayOf ? ` of #${e.replayOf}` : '') + (e.route ? ` · ${e.route}` : ''),
      title: e.route ? `route: ${e.transport}, reason ${e.route}` : '',
    }),
    el('td', { class: 'muted', text: !e.viewer ? '' : /[.:]/.test(e.viewer) ? e.viewer : e.viewer.slice(0, 8), title: e.viewer || '' }),
    el('td', { class: 'col-tunnel', text: e.tunnel || '' }),
  );
  if (e.id === state.selected) tr.classList.add('selected');
  tr.addEventListener('click', () => select(e.id));
  return tr;
}

function render() {
  const f = filters();
  const shown = state.entries.filter((e) => matches(e, f) && (!state.headerIds || state.headerIds.has(e.id)));
  const body = $('#list tbody');
  body.replaceChildren(...shown.map(row));
  $('#empty').hidden = state.entries.length > 0;
  $('#count').textContent = `${shown.length} of ${state.entries.length}`;
}

/** The header filter runs on the server, which has the heads; the other filters run here. */
async function loadList() {
  const header = filters().header;
  const clears = state.clears;
  const { requests } = await api('/api/requests');
  // A clear while the list was on its way makes this snapshot stale.
  if (clears !== state.clears) return;
  // Live events that arrived while the list was on its way are newer than the
  // snapshot (ids only grow): keep them, or a request made right after the page
  // connected would vanish until the next reload.
  const newest = requests.reduce((max, e) => Math.max(max, e.id), -1);
  const arrived = state.entries.filter((e) => e.id > newest);
  state.entries = arrived.concat(requests).slice(0, MAX_ROWS);
  state.headerIds = header ? new Set((await api('/api/requests?header=' + encodeURIComponent(header))).requests.map((e) => e.id)) : undefined;
  render();
}

function connectEvents() {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    $('#live').textContent = 'live';
    $('#live').classList.remove('off');
    // Whatever happened while disconnected.
    void loadList();
  });
  source.addEventListener('error', () => {
    $('#live').textContent = 'offline';
    $('#live').classList.add('off');
  });
  source.addEventListener('request', (ev) => {
    const e = JSON.parse(ev.data);
    if (state.entries.some((x) => x.id === e.id)) return;
    if (e.tunnel && !state.tunnels.includes(e.tunnel)) void loadTunnels();
    state.entries.unshift(e);
    if (state.entries.length > MAX_ROWS) state.entries.length = MAX_ROWS;
    if (filters().header) return void loadList();
    render();
  });
  source.addEventListener('cleared', () => {
    state.clears += 1;
    state.entries = [];
    state.selected = undefined;
    $('#detail').hidden = true;
    render();
  });
}

// ---- detail ---------------------------------------------------------------

function decodeBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function headerTable(table, headers) {
  table.replaceChildren(...headers.map(([n, v]) => el('tr', {}, el('td', { text: n }), el('td', { text: v }))));
}

function highlightJson(text) {
  const pre = el('pre', { class: 'json' });
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    pre.append(text.slice(last, m.index));
    if (m[1]) {
      pre.append(el('span', { class: m[2] ? 'j-key' : 'j-str', text: m[1] }));
      if (m[2]) pre.append(m[2]);
    } else if (m[3]) pre.append(el('span', { class: 'j-lit', text: m[3] }));
    else pre.append(el('span', { class: 'j-num', text: m[4] }));
    last = re.lastIndex;
  }
  pre.append(text.slice(last));
  return pre;
}

function hexDump(bytes) {
  const lines = [];
  const n = Math.min(bytes.length, HEX_MAX_BYTES);
  for (let o = 0; o < n; o += 16) {
    const chunk = bytes.subarray(o, Math.min(o + 16, n));
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${o.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return el('pre', { class: 'hex', text: lines.join('\n') });
}

function isText(contentType, bytes) {
  if (/^text\/|json|xml|javascript|x-www-form-urlencoded|graphql|csv|yaml/i.test(contentType)) return true;
  if (contentType) return false;
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return !/[\u0000-\u0008\u000e-\u001f]/.test(s);
  } catch {
    return false;
  }
}

/** A body as the viewer would want to read it: pretty JSON (or its syntax error), text, an image, or hex. */
function renderBody(container, body) {
  container.replaceChildren();
  const note = (text, cls = 'note') => container.append(el('p', { class: cls, text }));
  if (body.size === 0) return note('no body');
  const bytes = decodeBase64(body.data);
  const type = (body.contentType || '').split(';')[0].trim().toLowerCase();
  note(`${type || 'no content-type'} · ${formatSize(body.size)}`);
  if (body.underLoad)
    note(`body not kept: the agent is under load (its buffer budget was over half spent by stalled exchanges, or refused this one)`, 'note error');
  else if (body.truncated) note(`truncated: showing the first ${formatSize(bytes.length)} of ${formatSize(body.size)} (--inspect-body-limit)`, 'note error');
  if (bytes.length === 0) return;
  if (type.startsWith('image/') && !body.truncated) {
    const img = el('img', { alt: 'response image' });
    img.src = `data:${type};base64,${body.data}`;
    container.append(img);
    return;
  }
  if (!isText(type, bytes)) return container.append(hexDump(bytes));
  const text = new TextDecoder().decode(bytes);
  if (/json/.test(type) || (!type && /^\s*[[{]/.test(text))) {
    try {
      return container.append(highlightJson(JSON.stringify(JSON.parse(text), null, 2)));
    } catch (err) {
      if (!body.truncated) note(`JSON syntax error: ${err.message}`, 'note error');
    }
  }
  container.append(el('pre', { text }));
}

async function select(id) {
  state.selected = id;
  for (const tr of document.querySelectorAll('#list tbody tr')) tr.classList.toggle('selected', tr.dataset.id === String(id));
  $('#detail-error').hidden = true;
  $('#editor').hidden = true;
  let d;
  try {
    d = await api(`/api/requests/${id}`);
  } catch (err) {
    return showError(err);
  }
  if (state.selected !== id) return;
  state.detail = d;
  $('#detail').hidden = false;
  $('#detail-title').textContent = `#${d.id} ${d.websocket ? 'WS' : d.method} ${d.path}`;
  $('#detail-meta').textContent = [
    d.status === 0 ? `no response (${d.error || 'reset'})` : `${d.status}${d.error ? ' ' + d.error : ''}`,
    `${d.durationMs} ms`,
    d.transport + (d.replayOf ? ` of #${d.replayOf}` : ''),
    d.viewer ? `viewer ${d.viewer}` : '',
    new Date(d.startedAt).toLocaleString(),
  ]
    .filter(Boolean)
    .join(' · ');
  $('#replay').disabled = $('#edit').disabled = Boolean(d.websocket);
  headerTable($('#req-headers'), d.request.headers);
  renderBody($('#req-body'), d.request.body);
  headerTable($('#res-headers'), d.response.headers);
  renderBody($('#res-body'), d.response.body);
}

function showError(err) {
  $('#detail-error').textContent = String(err.message || err);
  $('#detail-error').hidden = false;
}

async function replay(overrides) {
  try {
    const { request } = await api(`/api/requests/${state.detail.id}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(overrides || {}),
    });
    await select(request.id);
  } catch (err) {
    showError(err);
  }
}

function openEditor() {
  const d = state.detail;
  const form = $('#editor');
  form.method.value = d.method;
  form.path.value = d.path;
  form.headers.value = d.request.headers.map(([n, v]) => `${n}: ${v}`).join('\n');
  const bytes = decodeBase64(d.request.body.data);
  const text = isText((d.request.body.contentType || '').toLowerCase(), bytes);
  form.body.value = text ? new TextDecoder().decode(bytes) : '';
  form.body.disabled = !text;
  form.body.dataset.binary = text ? '' : '1';
  $('#editor-note').textContent = text
    ? d.request.body.truncated
      ? 'The captured body was truncated: what you send is what is in the box.'
      : ''
    : 'Binary body: it is sent as captured (edit it through the API with bodyEncoding "base64").';
  form.hidden = false;
}

function submitEditor(ev) {
  ev.preventDefault();
  const form = $('#editor');
  const headers = form.headers.value
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(':', 1);
      return i < 0 ? [l, ''] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
  const overrides = { method: form.method.value.trim(), path: form.path.value.trim(), headers };
  if (!form.body.dataset.binary) overrides.body = form.body.value;
  form.hidden = true;
  void replay(overrides);
}

/** The tunnels in the header; with named tunnels (wingman start), a tunnel column and filter too. */
async function loadTunnels() {
  const { tunnels } = await api('/api/tunnels');
  if (tunnels.length === 0) return;
  $('#tunnel').textContent = tunnels.map((t) => `${t.name ? t.name + ': ' : ''}${t.publicUrl} → ${t.target}`).join(' · ');
  const names = tunnels.map((t) => t.name).filter(Boolean);
  document.body.classList.toggle('multi', names.length > 0);
  const select = $('#filters select[name=tunnel]');
  for (const name of names) {
    if (state.tunnels.includes(name)) continue;
    state.tunnels.push(name);
    select.append(el('option', { text: name }));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('#filters').addEventListener('input', (ev) => (ev.target.name === 'header' ? void loadList() : render()));
  $('#filters').addEventListener('submit', (ev) => ev.preventDefault());
  $('#clear').addEventListener('click', () => void api('/api/requests', { method: 'DELETE' }).catch(showError));
  $('#replay').addEventListener('click', () => void replay());
  $('#edit').addEventListener('click', openEditor);
  $('#edit-cancel').addEventListener('click', () => ($('#editor').hidden = true));
  $('#editor').addEventListener('submit', submitEditor);
  void loadTunnels();
  connectEvents();
});
