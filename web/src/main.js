// The deepwatch dashboard (R6), served by the admin listener under /ui/. It signs in with an API
// key, asks GET /admin/v1/whoami what the key may do, polls /metrics every two seconds into a
// ten-minute ring of snapshots for the charts, and reads the other panels from the admin API.

import { get, post, storedKey, storeKey, whenUnauthorized, errorMessage } from './api.js';
import { applyTranslations, initialLanguage, language, setLanguage, t } from './i18n.js';
import { parsePrometheusText, byName } from './prom.js';
import { Ring, POLL_MS, HISTORY_MS, namespaceOf } from './series.js';
import { Charts } from './charts.js';
import { el, replace } from './dom.js';
import * as panels from './panels.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['overview', 'fleet', 'audit', 'experiments', 'reports'];
const PANEL_MS = 5000;
const AUDIT_PAGE = 1000;
const AUDIT_KEEP = 2000;

const state = {
  whoami: null,
  view: 'overview',
  model: '',
  ring: new Ring(Math.ceil(HISTORY_MS / POLL_MS)),
  models: new Set(),
  data: { alerts: {}, fleet: {}, audit: { entries: [], lastSeq: 0, filter: {} }, experiments: {}, reports: {} },
  timers: [],
  busy: new Set(),
};
const charts = new Charts(document);

// What the page hands to the panels: permissions and actions.
const app = {
  can(model, action) {
    const perModel = state.whoami?.can_model?.[model]?.[action];
    return perModel ?? state.whoami?.can?.[`models.${action}`] ?? false;
  },
  rollback: (model, stable, versions) => rollback(model, stable, versions),
  rolloutAction: (rollout, action) => rolloutAction(rollout, action),
  showReport: (id) => showReport(id),
};

// ---- sign-in ----------------------------------------------------------------------------------

function showLogin(message = '') {
  stopPolling();
  state.whoami = null;
  $('login').hidden = false;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('logout').hidden = true;
  for (const view of VIEWS) $(`view-${view}`).hidden = true;
  $('login-error').textContent = message;
  $('key').focus();
}

async function signIn(key) {
  let reply;
  try {
    reply = await get('/admin/v1/whoami', { key });
  } catch (error) {
    return showLogin(t('login.unreachable', { error: error.message }));
  }
  if (reply.status !== 200 || !reply.json) return showLogin(key ? t('login.bad') : '');
  storeKey(key);
  state.whoami = reply.json;
  enter();
}

function signOut(message = '') {
  storeKey('');
  showLogin(message);
}

function renderWho() {
  const w = state.whoami;
  const who = $('who');
  who.hidden = false;
  who.textContent = w.authentication
    ? `${w.user} · ${t('who.roles', { roles: (w.roles ?? []).join(', ') || '–' })}`
    : t('login.auth_off');
  who.dataset.user = w.user ?? '';
  $('logout').hidden = !w.authentication;
}

function enter() {
  $('login').hidden = true;
  $('nav').hidden = false;
  renderWho();
  charts.build();
  showView(viewFromHash());
  startPolling();
}

// ---- views and polling ------------------------------------------------------------------------

function viewFromHash() {
  const name = location.hash.replace(/^#/, '');
  return VIEWS.includes(name) ? name : 'overview';
}

function showView(view) {
  state.view = view;
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.dataset.view === view);
  if (view === 'overview') {
    charts.resize();
    charts.update(state.ring, state.model);
  }
  refreshView();
}

function startPolling() {
  stopPolling();
  pollMetrics();
  state.timers.push(setInterval(pollMetrics, POLL_MS));
  state.timers.push(setInterval(refreshView, PANEL_MS));
}

function stopPolling() {
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
}

// Runs `fn` unless the same job is still running (a slow gateway must not pile up requests).
async function once(name, fn) {
  if (state.busy.has(name)) return;
  state.busy.add(name);
  try {
    await fn();
  } catch (error) {
    console.warn(`deepwatch dashboard: ${name}:`, error);
  } finally {
    state.busy.delete(name);
  }
}

function pollMetrics() {
  return once('metrics', async () => {
    const reply = await get('/metrics');
    if (reply.status === 403) {
      $('last-update').textContent = t('overview.metrics_denied');
      return;
    }
    if (!reply.ok) return;
    const names = byName(parsePrometheusText(reply.text));
    const ns = namespaceOf(names);
    // Only this gateway's own families are kept: ten minutes of them fit in a few MB.
    const metrics = new Map([...names].filter(([name]) => name.startsWith(`${ns}_`)));
    state.ring.push({ t: Date.now() / 1000, ns, metrics });
    for (const s of metrics.get(`${ns}_inference_qps`) ?? []) if (s.labels.model) state.models.add(s.labels.model);
    updateModelFilter();
    $('last-update').textContent = t('overview.updated', { time: new Date().toLocaleTimeString() });
    if (state.view === 'overview') charts.update(state.ring, state.model);
  });
}

function updateModelFilter() {
  const select = $('model-filter');
  const present = new Set([...select.options].map((o) => o.value));
  for (const model of [...state.models].sort()) {
    if (!present.has(model)) select.append(el('option', { value: model, text: model }));
  }
}

function refreshView() {
  switch (state.view) {
    case 'overview': return once('alerts', loadAlerts);
    case 'fleet': return once('fleet', loadFleet);
    case 'audit': return once('audit', loadAudit);
    case 'experiments': return once('experiments', loadExperiments);
    case 'reports': return once('reports', loadReports);
    default: return undefined;
  }
}

// `data` gets the reply's JSON, or {denied: true} on a 403.
async function fetchInto(path, data) {
  const reply = await get(path);
  if (reply.status === 403) return { denied: true };
  if (!reply.ok) return { error: errorMessage(reply) };
  return { ...data, ...reply.json };
}

async function loadAlerts() {
  const reply = await get('/admin/v1/alerts?history=0');
  state.data.alerts = reply.status === 403 ? { denied: true } : { alerts: reply.json };
  panels.renderAlerts($('alerts'), state.data.alerts);
}

async function loadFleet() {
  const [versions, rollouts, events] = await Promise.all([
    fetchInto('/admin/v1/versions', {}),
    fetchInto('/admin/v1/rollouts', {}),
    fetchInto('/admin/v1/events', {}),
  ]);
  state.data.fleet = { versions: versions.versions, rollouts: rollouts.rollouts, events: events.events, denied: versions.denied };
  for (const v of versions.versions ?? []) state.models.add(v.model);
  renderFleet();
}

function renderFleet() {
  const fleet = state.data.fleet;
  panels.renderFleet($('models'), fleet, app);
  panels.renderRollouts($('rollouts'), fleet, app);
  panels.renderEvents($('events'), fleet);
  const models = [...state.models];
  const actions = ['rollback', 'promote', 'pause', 'resume', 'abort'];
  $('fleet-readonly').hidden = models.some((m) => actions.some((a) => app.can(m, a)));
}

// The audit log comes in sequence order; the page keeps the newest entries and asks only for
// those after the last one it has.
async function loadAudit() {
  const audit = state.data.audit;
  for (;;) {
    const query = new URLSearchParams({ after_seq: String(audit.lastSeq), limit: String(AUDIT_PAGE) });
    if (audit.filter.actor) query.set('actor', audit.filter.actor);
    if (audit.filter.operation) query.set('operation', audit.filter.operation);
    const reply = await get(`/admin/v1/audit?${query}`);
    if (reply.status === 403) {
      audit.denied = true;
      break;
    }
    if (!reply.ok || !Array.isArray(reply.json?.entries)) {
      audit.error = errorMessage(reply);
      break;
    }
    audit.denied = false;
    audit.error = '';
    const entries = reply.json.entries;
    audit.entries.push(...entries);
    if (audit.entries.length > AUDIT_KEEP) audit.entries.splice(0, audit.entries.length - AUDIT_KEEP);
    if (entries.length > 0) audit.lastSeq = entries.at(-1).event?.sequence ?? audit.lastSeq;
    if (entries.length < AUDIT_PAGE) break;
  }
  panels.renderAudit($('audit'), audit);
}

async function loadExperiments() {
  state.data.experiments = await fetchInto('/admin/v1/experiments', {});
  panels.renderExperiments($('experiments'), state.data.experiments);
}

async function loadReports() {
  state.data.reports = await fetchInto('/admin/v1/reports', {});
  $('report-now').hidden = !state.whoami?.can?.['reports.create'];
  panels.renderReports($('reports'), state.data.reports, app);
}

async function showReport(id) {
  const reply = await get(`/admin/v1/reports/${encodeURIComponent(id)}`);
  const detail = $('report-detail');
  detail.hidden = false;
  const body = reply.ok ? JSON.stringify(reply.json?.report ?? reply.json, null, 2) : errorMessage(reply);
  detail.textContent = body.length > 50000 ? `${body.slice(0, 50000)}\n…` : body;
}

// ---- actions ----------------------------------------------------------------------------------

// Opens the confirm dialog; resolves to {reason, to} or null when cancelled.
function confirmAction({ title, text, targets }) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-reason').value = '';
  const select = $('confirm-target');
  $('confirm-target-row').hidden = !targets;
  if (targets) {
    replace(select, el('option', { value: '', text: t('action.target_auto') }),
      ...targets.map((v) => el('option', { value: v, text: v })));
  }
  return new Promise((resolve) => {
    const done = (result) => {
      dialog.removeEventListener('close', onClose);
      $('confirm-form').removeEventListener('submit', onSubmit);
      $('confirm-cancel').removeEventListener('click', onCancel);
      resolve(result);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const result = { reason: $('confirm-reason').value.trim(), to: targets ? select.value : '' };
      dialog.close('ok');
      done(result);
    };
    const onCancel = () => {
      dialog.close('cancel');
      done(null);
    };
    const onClose = () => done(null);
    $('confirm-form').addEventListener('submit', onSubmit);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('confirm-reason').focus();
  });
}

function toast(message, error = false) {
  const box = $('toast');
  box.textContent = message;
  box.classList.toggle('error', error);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function act(label, model, path, body) {
  const reply = await post(path, body);
  if (reply.ok) toast(t('action.done', { action: label, model }));
  else toast(t('action.failed', { action: label, model, error: errorMessage(reply) }), true);
  state.busy.delete('fleet');
  await once('fleet', loadFleet);
}

async function rollback(model, stable, versions) {
  const targets = versions.filter((v) => v.version !== stable && (v.replicas?.length ?? 0) > 0).map((v) => v.version);
  const answer = await confirmAction({
    title: t('action.rollback_title', { model }),
    text: t('action.rollback_text', { stable: stable ?? '–' }),
    targets,
  });
  if (!answer) return;
  const body = { model, reason: answer.reason };
  if (answer.to) body.to = answer.to;
  await act(t('action.rollback'), model, '/admin/v1/rollback', body);
}

async function rolloutAction(rollout, action) {
  const label = t(`action.${action}`);
  const answer = await confirmAction({
    title: t('action.rollout_title', { action: label, model: rollout.model }),
    text: t('action.rollout_text', { candidate: rollout.candidate, baseline: rollout.baseline }),
  });
  if (!answer) return;
  await act(label, rollout.model, `/admin/v1/rollouts/${encodeURIComponent(rollout.model)}/${action}`, { reason: answer.reason });
}

// ---- language ---------------------------------------------------------------------------------

function renderLanguage() {
  applyTranslations(document);
  $('lang').textContent = language() === 'zh' ? 'English' : '中文';
  if (!state.whoami) return;
  renderWho();
  charts.build();
  charts.update(state.ring, state.model);
  panels.renderAlerts($('alerts'), state.data.alerts);
  renderFleet();
  panels.renderAudit($('audit'), state.data.audit);
  panels.renderExperiments($('experiments'), state.data.experiments);
  panels.renderReports($('reports'), state.data.reports, app);
}

// ---- start ------------------------------------------------------------------------------------

function start() {
  setLanguage(initialLanguage(localStorage, navigator.language), localStorage);
  renderLanguage();
  whenUnauthorized(() => signOut(t('login.bad')));
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('key').value.trim());
    $('key').value = '';
  });
  $('logout').addEventListener('click', () => signOut());
  $('lang').addEventListener('click', () => {
    setLanguage(language() === 'zh' ? 'en' : 'zh', localStorage);
    renderLanguage();
  });
  $('model-filter').addEventListener('change', (event) => {
    state.model = event.target.value;
    charts.update(state.ring, state.model);
  });
  $('audit-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    state.data.audit = {
      entries: [],
      lastSeq: 0,
      filter: { actor: $('audit-actor').value.trim(), operation: $('audit-operation').value.trim() },
    };
    state.busy.delete('audit');
    once('audit', loadAudit);
  });
  $('report-now').addEventListener('click', async () => {
    const reply = await post('/admin/v1/reports', {});
    toast(reply.ok ? t('reports.created_ok', { id: reply.json?.id }) : t('common.error', { error: errorMessage(reply) }), !reply.ok);
    state.busy.delete('reports');
    once('reports', loadReports);
  });
  window.addEventListener('hashchange', () => state.whoami && showView(viewFromHash()));
  window.addEventListener('resize', () => charts.resize());
  // Without authentication whoami answers without a key; otherwise the stored key, or the form.
  signIn(storedKey());
}

start();
// For people and tests poking at the page from the console: the data behind the charts.
window.deepwatch = { state };
