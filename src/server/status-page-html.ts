/**
 * The status page as strings, so the bundle ships it without a build step or a static-file route: one HTML
 * document and its script (inlined, allowed by hash in the page's Content-Security-Policy). Everything from the
 * server is rendered with textContent, never as HTML: run outputs and step names are untrusted text.
 */

export const statusPageScript = String.raw`
'use strict';
const $ = (id) => document.getElementById(id);
const keys = { api: sessionStorage.getItem('autoglm.apiKey') || '', admin: sessionStorage.getItem('autoglm.adminKey') || '' };
$('api-key').value = keys.api;
$('admin-key').value = keys.admin;
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) element.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return element;
}
const mb = (bytes) => (bytes === undefined ? '-' : (bytes / 1048576).toFixed(1) + ' MB');
const ms = (value) => (value === undefined ? '-' : value < 1000 ? Math.round(value) + ' ms' : (value / 1000).toFixed(2) + ' s');
const headers = (key) => (key ? { authorization: 'Bearer ' + key } : {});
let admin = false;

function say(text, kind) {
  const message = $('message');
  message.textContent = text;
  message.dataset.kind = kind;
}

async function adminCall(name, action, body) {
  say(action + ' of ' + name + '...', 'busy');
  const response = await fetch('/admin/models/' + encodeURIComponent(name) + '/' + action, {
    method: 'POST',
    headers: { ...headers(keys.admin), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const result = await response.json().catch(() => ({}));
  if (response.ok) say(action + ' of ' + name + ': now serving ' + result.version + (result.previousVersion ? ' (previous ' + result.previousVersion + ')' : ''), 'ok');
  else say(action + ' of ' + name + ' failed (' + response.status + '): ' + ((result.error && result.error.message) || response.statusText), 'error');
}

function versionCell(version) {
  if (!version) return h('td', {}, '-');
  return h('td', {}, h('code', {}, version.version), ' ', version.loaded ? h('span', { class: 'tag warm' }, 'loaded') : h('span', { class: 'tag' }, 'unloaded'));
}

function renderModels(snapshot) {
  const rows = snapshot.models.map((model) => {
    const controls = h('td', { class: 'controls' });
    if (snapshot.admin && snapshot.registry) {
      const input = h('input', { type: 'text', placeholder: 'new version directory', 'aria-label': 'new version directory of ' + model.name });
      controls.append(
        h('button', { type: 'button', 'data-action': 'rollback', 'data-model': model.name, onclick: () => adminCall(model.name, 'rollback') }, 'Roll back'),
        input,
        h('button', { type: 'button', 'data-action': 'update', 'data-model': model.name, onclick: () => input.value && adminCall(model.name, 'update', { path: input.value }) }, 'Update'),
      );
    }
    const active = model.active || {};
    return h('tr', { 'data-model': model.name },
      h('td', {}, h('strong', {}, model.name)),
      h('td', { class: 'active-version' }, h('code', {}, active.version || '-')),
      versionCell(model.previous),
      h('td', {}, mb(active.rssDeltaBytes), ' / ', mb(active.fileBytes)),
      h('td', {}, String(active.inFlight ?? 0)),
      h('td', { class: 'queue' }, String(model.queueDepth)),
      controls);
  });
  $('models').replaceChildren(...rows);
}

function renderRuns(snapshot) {
  if (snapshot.runs.length === 0) {
    $('runs').replaceChildren(h('tr', {}, h('td', { colspan: '5', class: 'empty' }, 'No runs yet (POST /v1/runs).')));
    return;
  }
  $('runs').replaceChildren(...snapshot.runs.map((run) => {
    const steps = Object.entries(run.steps || {}).map(([id, step]) =>
      h('li', { class: 'step ' + step.status }, id + ' ', h('span', { class: 'tag ' + step.status }, step.status), ' ',
        step.startedAt ? ms((step.endedAt || snapshot.at) - step.startedAt) : ''));
    return h('tr', { 'data-run': run.id },
      h('td', {}, h('code', {}, run.id)),
      h('td', {}, run.workflow),
      h('td', {}, h('span', { class: 'tag status ' + run.status }, run.status)),
      h('td', {}, run.model ? h('code', {}, run.model.version) : '-', run.resumedOnModelVersion ? ' -> ' + run.resumedOnModelVersion : ''),
      h('td', {}, h('ul', { class: 'steps' }, steps), ms((run.endedAt || snapshot.at) - run.createdAt)));
  }));
}

function render(snapshot) {
  admin = snapshot.admin;
  $('admin-row').hidden = !snapshot.admin;
  $('updated').textContent = new Date(snapshot.at).toLocaleTimeString() + ' - process memory ' + mb(snapshot.memory.rssBytes);
  renderModels(snapshot);
  renderRuns(snapshot);
}

let connection;
async function connect() {
  connection && connection.abort();
  const controller = new AbortController();
  connection = controller;
  try {
    const response = await fetch('/status/events', { headers: headers(keys.api), signal: controller.signal });
    if (!response.ok) {
      $('live').textContent = response.status === 401 ? 'enter the API key' : 'error ' + response.status;
      return;
    }
    $('live').textContent = 'live';
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
        if (data) render(JSON.parse(data));
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
  }
  if (connection === controller) {
    $('live').textContent = 'reconnecting';
    setTimeout(connect, 1000);
  }
}

$('keys').addEventListener('submit', (event) => {
  event.preventDefault();
  keys.api = $('api-key').value.trim();
  keys.admin = $('admin-key').value.trim();
  sessionStorage.setItem('autoglm.apiKey', keys.api);
  sessionStorage.setItem('autoglm.adminKey', keys.admin);
  connect();
});
connect();
`;

export const statusPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autoglm status</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  header p { margin: 0; color: #5b6570; font-size: .9rem; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #dfe3e8; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #eef0f3; vertical-align: top; font-size: .9rem; }
  th { background: #f0f2f5; font-weight: 600; }
  code { font-size: .85rem; }
  .tag { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .75rem; background: #e8ebef; }
  .tag.warm, .tag.succeeded { background: #d5f2dc; color: #135c26; }
  .tag.running { background: #dbe8ff; color: #173f8a; }
  .tag.failed, .tag.cancelled { background: #fbdada; color: #8a1717; }
  .steps { list-style: none; margin: 0 0 .2rem; padding: 0; }
  .controls input { width: 12rem; }
  button { cursor: pointer; }
  form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; font-size: .85rem; margin-top: .75rem; }
  #message { min-height: 1.2rem; font-size: .9rem; margin: .5rem 0 0; }
  #message[data-kind=ok] { color: #135c26; } #message[data-kind=error] { color: #8a1717; }
  .empty { color: #5b6570; }
</style>
</head>
<body>
<header>
  <h1>autoglm status</h1>
  <p><span id="live">connecting</span> - <span id="updated"></span></p>
  <form id="keys">
    <label>API key <input id="api-key" type="password" autocomplete="off"></label>
    <label>Admin key <input id="admin-key" type="password" autocomplete="off"></label>
    <button type="submit">Use keys</button>
  </form>
</header>
<h2>Models</h2>
<table>
  <thead><tr><th>Model</th><th>Active version</th><th>Previous version</th><th>Memory (load / files)</th><th>In flight</th><th>Queue</th><th id="admin-row" hidden>Admin</th></tr></thead>
  <tbody id="models"></tbody>
</table>
<p id="message" role="status"></p>
<h2>Recent runs</h2>
<table>
  <thead><tr><th>Run</th><th>Workflow</th><th>Status</th><th>Model version</th><th>Steps and durations</th></tr></thead>
  <tbody id="runs"></tbody>
</table>
<script>${statusPageScript}</script>
</body>
</html>
`;
