// The inspector's Viewers panel: every viewer of the tunnels (address,
// browser, first seen, state), kept live by the `viewer` Server-Sent Event,
// with Admit / Refuse / Revoke buttons and Revoke all (/api/viewers…).
// Viewer data is untrusted (it came from viewers): text nodes only.
'use strict';

(() => {
  const $ = (sel) => document.querySelector(sel);
  const viewers = new Map();
  /** Changes the events brought while the list was being fetched: applied again over it (the list may predate them). */
  let sinceLoad;

  /** Applies one change now, and again over the list a load in flight will bring. */
  function change(fn) {
    fn();
    sinceLoad?.push(fn);
    render();
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function button(label, action, id) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.dataset.action = action;
    b.dataset.id = id;
    return b;
  }

  function render() {
    const body = $('#viewers tbody');
    body.replaceChildren();
    const list = [...viewers.values()].sort((a, b) => a.firstSeenAt - b.firstSeenAt);
    for (const v of list) {
      const tr = document.createElement('tr');
      tr.dataset.id = v.id;
      tr.className = `v-${v.state}`;
      const actions = document.createElement('td');
      if (v.state === 'waiting') actions.append(button('Admit', 'admit', v.id), button('Refuse', 'refuse', v.id));
      else if (v.state === 'admitted') actions.append(button('Revoke', 'revoke', v.id));
      else actions.append(button('Admit', 'admit', v.id));
      tr.append(
        cell(v.shortId, 'mono'),
        cell(v.state),
        cell(v.address),
        cell(v.email || '—', 'viewer-email'),
        cell(v.userAgent || '—', 'ua'),
        cell(new Date(v.firstSeenAt).toLocaleTimeString([], { hour12: false })),
        cell(v.tunnel || '', 'viewer-tunnel'),
        actions,
      );
      tr.querySelector('.ua').title = v.userAgent;
      body.append(tr);
    }
    // The column of who signed in shows only on tunnels shared with --allow-email.
    $('#viewers').classList.toggle(
      'signed-in',
      list.some((v) => v.email !== undefined),
    );
    const waiting = list.filter((v) => v.state === 'waiting').length;
    $('#viewers-count').textContent = `${list.length} viewer(s)${waiting ? `, ${waiting} waiting` : ''}`;
    $('#viewers').classList.toggle('attention', waiting > 0);
  }

  async function post(path) {
    const res = await fetch(path, { method: 'POST' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    }
  }

  function showError(err) {
    $('#viewers-error').textContent = String(err.message || err);
    $('#viewers-error').hidden = false;
  }

  async function load() {
    const changes = [];
    sinceLoad = changes;
    try {
      const res = await fetch('/api/viewers');
      const { viewers: list } = await res.json();
      viewers.clear();
      for (const v of list) viewers.set(v.id, v);
      for (const fn of changes) fn();
    } finally {
      if (sinceLoad === changes) sinceLoad = undefined;
    }
    render();
    $('#viewers').dataset.loaded = '1';
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#viewers tbody').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (!b) return;
      $('#viewers-error').hidden = true;
      void post(`/api/viewers/${b.dataset.id}/${b.dataset.action}`).catch(showError);
    });
    $('#revoke-all').addEventListener('click', () => {
      $('#viewers-error').hidden = true;
      void post('/api/viewers/revoke-all').catch(showError);
    });
    const source = new EventSource('/api/events');
    source.addEventListener('open', () => void load().catch(showError));
    source.addEventListener('viewer', (ev) => {
      const v = JSON.parse(ev.data);
      change(() => viewers.set(v.id, v));
    });
    // A waiting viewer the server forgot to make room for others (waiting caps).
    source.addEventListener('viewer-gone', (ev) => {
      const { id } = JSON.parse(ev.data);
      change(() => viewers.delete(id));
    });
  });
})();
