// The dashboard's panels: active alerts, versions and rollouts with the actions the viewer's
// role allows, maintenance actions, the audit log, experiments and reports. Each renderer draws
// from data already fetched (so a language switch redraws without a request); actions go through
// the confirm dialog and the admin API, which checks the caller again.

import { el, table, replace, empty, formatTime, formatNumber } from './dom.js';
import { t } from './i18n.js';

export function renderAlerts(target, data) {
  if (data.denied) return replace(target, empty(t('common.denied')));
  const active = data.alerts?.active ?? [];
  if (active.length === 0) return replace(target, empty(t('alerts.none')));
  replace(target, table(
    [t('alerts.rule'), t('alerts.severity'), t('alerts.value'), t('alerts.since'), t('alerts.labels')],
    active.map((a) => ({
      data: { rule: a.rule, severity: a.severity },
      cells: [
        a.rule,
        el('span', { class: `badge ${a.severity}`, text: a.severity }),
        formatNumber(a.value),
        a.since,
        Object.entries(a.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(' '),
      ],
    })),
    { class: 'alerts' },
  ));
}

// Versions grouped by model, each with a rollback button when the caller may roll it back.
export function renderFleet(target, data, app) {
  if (data.denied) return replace(target, empty(t('common.denied')));
  const byModel = new Map();
  for (const v of data.versions ?? []) {
    if (!byModel.has(v.model)) byModel.set(v.model, []);
    byModel.get(v.model).push(v);
  }
  if (byModel.size === 0) return replace(target, el('section', { class: 'card' }, empty(t('fleet.none'))));
  const cards = [];
  for (const [model, versions] of byModel) {
    const stable = versions.find((v) => v.state === 'stable' || v.track === 'stable');
    const busy = (data.rollouts ?? []).some((r) => r.model === model && !['promoted', 'rolled_back', 'aborted', 'failed'].includes(r.state));
    const actions = [];
    if (app.can(model, 'rollback')) {
      actions.push(el('button', {
        type: 'button',
        class: 'danger',
        text: t('action.rollback'),
        disabled: busy || !stable,
        title: busy ? t('action.rollback_busy') : undefined,
        data: { action: 'rollback', model },
        on: { click: () => app.rollback(model, stable?.version, versions) },
      }));
    }
    cards.push(el('section', { class: 'card model', data: { model } }, [
      el('header', { class: 'model-head' }, [el('h2', { text: model }), el('div', { class: 'actions' }, actions)]),
      table(
        [t('fleet.version'), t('fleet.state'), t('fleet.track'), t('fleet.weight'), t('fleet.replicas'), t('fleet.accuracy')],
        versions.map((v) => ({
          data: { version: v.version, state: v.state },
          cells: [
            v.version,
            el('span', { class: `badge state-${v.state}`, text: v.state }),
            v.track ?? '',
            v.weight ?? '',
            v.replicas ? `${v.replicas.filter((r) => r.healthy).length}/${v.replicas.length}` : '',
            v.probe_accuracy === null || v.probe_accuracy === undefined ? '–' : `${(100 * v.probe_accuracy).toFixed(1)}%`,
          ],
        })),
        { class: 'versions' },
      ),
    ]));
  }
  replace(target, ...cards);
}

const ROLLOUT_ACTIONS = {
  loading: ['abort'],
  canary: ['pause', 'promote', 'abort'],
  paused: ['resume', 'promote', 'abort'],
};

export function renderRollouts(target, data, app) {
  if (data.denied) return replace(target, empty(t('common.denied')));
  const rollouts = data.rollouts ?? [];
  if (rollouts.length === 0) return replace(target, empty(t('rollouts.none')));
  replace(target, table(
    [t('rollouts.model'), t('rollouts.candidate'), t('rollouts.baseline'), t('rollouts.state'), t('rollouts.step'), t('rollouts.analysis'), t('rollouts.actions')],
    rollouts.map((r) => ({
      data: { model: r.model, state: r.state },
      cells: [
        r.model,
        r.candidate,
        r.baseline,
        el('span', { class: `badge state-${r.state}`, text: r.state }),
        r.step ?? '–',
        r.last_analysis ?? '',
        el('div', { class: 'actions' }, (ROLLOUT_ACTIONS[r.state] ?? [])
          .filter((action) => app.can(r.model, action))
          .map((action) => el('button', {
            type: 'button',
            class: action === 'abort' ? 'danger' : '',
            text: t(`action.${action}`),
            data: { action, model: r.model },
            on: { click: () => app.rolloutAction(r, action) },
          }))),
      ],
    })),
    { class: 'rollouts' },
  ));
}

export function renderEvents(target, data) {
  const events = (data.events ?? []).slice(0, 50);
  if (events.length === 0) return replace(target, empty(t('events.none')));
  replace(target, table(
    [t('events.time'), t('events.kind'), t('rollouts.model'), t('fleet.version'), t('events.actor'), t('events.reason')],
    events.map((e) => [formatTime(e.at_ms), e.kind, e.model, e.version, e.actor, e.reason]),
    { class: 'events' },
  ));
}

function auditDetails(entry) {
  try {
    return JSON.parse(entry.deepwatch?.audit?.details || '{}') ?? {};
  } catch {
    return {};
  }
}

// An admin operation is written twice (R8): before it runs (stage "request") and with its outcome
// ("response", naming the first). The view shows a request entry only while no response names it
// (in flight, or cut by a crash), so each finished operation is one row.
export function visibleAuditEntries(entries) {
  const answered = new Set();
  for (const e of entries) {
    const details = auditDetails(e);
    if (details.stage === 'response' && details.request_audit_id) answered.add(details.request_audit_id);
  }
  return entries.filter((e) => !(auditDetails(e).stage === 'request' && answered.has(e.event?.id)));
}

export function renderAudit(target, data) {
  if (data.denied) return replace(target, empty(t('audit.denied')));
  if (data.error) return replace(target, empty(t('common.error', { error: data.error })));
  const entries = visibleAuditEntries(data.entries ?? []).reverse().slice(0, 300);
  if (entries.length === 0) return replace(target, empty(t('audit.none')));
  replace(target, table(
    [t('audit.time'), t('audit.actor'), t('audit.operation'), t('audit.target'), t('audit.outcome'), t('audit.reason'), t('audit.source')],
    entries.map((e) => ({
      data: { action: e.event?.action ?? '', actor: e.user?.name ?? '', outcome: e.event?.outcome ?? '' },
      cells: [
        formatTime(e.deepwatch?.audit?.time_ms) || e['@timestamp'],
        e.user?.name ?? '',
        e.event?.action ?? '',
        e.labels?.target ?? '',
        el('span', { class: `badge outcome-${e.deepwatch?.audit?.outcome ?? e.event?.outcome}`, text: e.deepwatch?.audit?.outcome ?? e.event?.outcome ?? '' }),
        e.event?.reason ?? '',
        e.source?.ip ?? '',
      ],
    })),
    { class: 'audit' },
  ));
}

export function renderExperiments(target, data) {
  if (data.denied) return replace(target, empty(t('common.denied')));
  const list = data.experiments ?? [];
  if (list.length === 0) return replace(target, empty(t('experiments.none')));
  replace(target, table(
    [t('experiments.name'), t('experiments.model'), t('experiments.arms'), t('experiments.state'), t('experiments.decision'), t('experiments.winner'), t('experiments.score')],
    list.map((x) => [
      x.name,
      x.model,
      (x.arms ?? []).join(', '),
      x.state,
      x.verdict?.decision ?? '–',
      x.verdict?.winner ?? '–',
      formatNumber(x.verdict?.score_difference?.value),
    ]),
    { class: 'experiments' },
  ));
}

export function renderReports(target, data, app) {
  if (data.denied) return replace(target, empty(t('common.denied')));
  const list = data.reports ?? [];
  if (list.length === 0) return replace(target, empty(t('reports.none')));
  replace(target, table(
    [t('reports.period'), t('reports.created'), t('reports.trigger'), ''],
    list.map((r) => [
      `${formatTime(r.from_ms)} – ${formatTime(r.to_ms)}`,
      formatTime(r.created_ms),
      r.trigger,
      el('button', { type: 'button', class: 'ghost', text: t('reports.show'), data: { report: r.id }, on: { click: () => app.showReport(r.id) } }),
    ]),
    { class: 'reports' },
  ));
}
