// The Grafana dashboard in deploy/grafana/ against what makes it importable as is and true to
// what deepwatch exports: the JSON model (uid, schemaVersion, unique panel ids, a grid without
// overlaps), every query going through the `datasource` template variable, and every PromQL
// expression parsed by Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of the
// Prometheus UI; promtool's Go parser too when it is installed) and naming only metric families
// and labels listed in docs/design/metrics.md, read here at test time. No network, no Grafana.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';

const SOURCE_DIR = resolve(
  process.env.DEEPWATCH_SOURCE_DIR ?? fileURLToPath(new URL('../../', import.meta.url)));
const GRAFANA_DIR = join(SOURCE_DIR, 'deploy/grafana');
const DASHBOARD_FILE = join(GRAFANA_DIR, 'deepwatch-dashboard.json');
const METRICS_DOC = join(SOURCE_DIR, 'docs/design/metrics.md');
const DS_REF = { type: 'prometheus', uid: '${datasource}' };

// Labels every series may carry besides its family's: the scrape's target labels, and the two
// that deploy/prometheus/prometheus.yml adds to deepseek_(input|output|resource)_* series.
const SCRAPE_LABELS = ['job', 'instance'];
const RELABELLED = /^deepseek_(input|output|resource)_\w+$/;
const RELABEL_LABELS = ['metric_type', 'dimension'];

// `a{b,c}d{e,f}` -> [abde, abdf, acde, acdf].
function expandBraces(pattern) {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + m[0].length);
  return m[1].split(',').flatMap((alt) => expandBraces(head + alt.trim() + tail));
}

// The metrics table of docs/design/metrics.md: family name -> { labels, histogram }.
function readMetricsDoc() {
  const families = new Map();
  for (const line of readFileSync(METRICS_DOC, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | family | labels |  ->  ['', family, labels, '']
    if (cells.length !== 4 || !cells[1].includes('`deepseek_')) continue;
    const [, familyCell, labelCell] = cells;
    const histogram = /histogram/i.test(familyCell);
    // "model, version (, kind)" keeps kind; "kind (connect, rtt)" lists values, not labels.
    const labelText = labelCell.replace(/\(([^)]*)\)/g, (_, inner) =>
      inner.trim().startsWith(',') ? inner : '');
    const labels = labelText.split(/[,/]/).map((l) => l.trim()).filter(Boolean);
    for (const label of labels) assert.match(label, /^[a-z_]+$/, `metrics.md label "${label}"`);
    for (const [, pattern] of familyCell.matchAll(/`(deepseek_[^`]+)`/g)) {
      for (const name of expandBraces(pattern)) {
        assert.match(name, /^[a-z_:][a-z0-9_:]*$/, `metrics.md family "${name}"`);
        families.set(name, { labels, histogram });
      }
    }
  }
  return families;
}

const FAMILIES = readMetricsDoc();

// The labels a series of metric `name` may have, or null when the name is not documented.
function labelsOf(name) {
  let family = FAMILIES.get(name);
  let extra = [];
  if (!family) {
    const m = /^(.*)_(bucket|sum|count)$/.exec(name);
    const base = m && FAMILIES.get(m[1]);
    if (!base || !base.histogram) return null;
    family = base;
    if (m[2] === 'bucket') extra = ['le'];
  }
  return new Set([...family.labels, ...extra, ...SCRAPE_LABELS,
    ...(RELABELLED.test(name) ? RELABEL_LABELS : [])]);
}

// Grafana's macros and variables, replaced by what Grafana would send to Prometheus.
function interpolate(expr) {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(model|version|window)\}?/g, '.*');
}

// Parses PromQL with Prometheus' grammar: syntax errors, metric names, labels in selectors
// (per metric) and labels in by/without/on/ignoring clauses.
function analyse(expr) {
  const tree = parser.parse(expr);
  const errors = [];
  const selectors = [];
  const grouping = [];
  const text = (n) => expr.slice(n.from, n.to);
  const walk = (node) => {
    if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(node.from, node.from + 20)}"`);
    if (node.name === 'VectorSelector') {
      const id = node.getChild('Identifier');
      const labels = [];
      const collect = (n) => {
        if (n.name === 'LabelName') labels.push(text(n));
        for (let c = n.firstChild; c; c = c.nextSibling) collect(c);
      };
      const matchers = node.getChild('LabelMatchers');
      if (matchers) collect(matchers);
      selectors.push({ name: id ? text(id) : null, labels });
    }
    if (node.name === 'GroupingLabels') {
      for (let c = node.firstChild; c; c = c.nextSibling) {
        if (c.name === 'LabelName') grouping.push(text(c));
      }
    }
    for (let c = node.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(tree.topNode);
  return { errors, selectors, grouping };
}

// Checks one expression; returns the labels its series may carry (for legends).
function checkExpr(expr, where) {
  const { errors, selectors, grouping } = analyse(interpolate(expr));
  assert.deepEqual(errors, [], `${where}: PromQL does not parse: ${expr}`);
  assert.ok(selectors.length > 0, `${where}: no metric selector in ${expr}`);
  const all = new Set();
  for (const s of selectors) {
    assert.ok(s.name, `${where}: selector without a metric name in ${expr}`);
    const labels = labelsOf(s.name);
    assert.ok(labels, `${where}: ${s.name} is not a family of docs/design/metrics.md`);
    for (const l of s.labels) assert.ok(labels.has(l), `${where}: ${s.name} has no label "${l}"`);
    labels.forEach((l) => all.add(l));
  }
  for (const l of grouping) assert.ok(all.has(l), `${where}: no metric in the expression has "${l}"`);
  return all;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));

// Top-level panels and those nested in collapsed rows.
function allPanels() {
  return dashboard.panels.flatMap((p) => [p, ...(p.type === 'row' ? p.panels ?? [] : [])]);
}

// Every PromQL expression of the dashboard with where it is.
function allExprs() {
  const out = [];
  for (const p of allPanels()) {
    for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr, target: t, panel: p });
  }
  for (const a of dashboard.annotations.list.filter((a) => !a.builtIn)) {
    out.push({ where: `annotation "${a.name}"`, expr: a.expr, target: a });
  }
  return out;
}

test('metrics.md lists the families the dashboard reads from', () => {
  assert.deepEqual(expandBraces('deepseek_latency_p{50,95,99}_seconds'),
    ['deepseek_latency_p50_seconds', 'deepseek_latency_p95_seconds', 'deepseek_latency_p99_seconds']);
  for (const name of ['deepseek_requests_total', 'deepseek_latency_p99_seconds',
    'deepseek_cached_prompt_tokens_total', 'deepseek_resource_kv_cache_usage_ratio',
    'deepseek_input_psi', 'deepseek_output_accuracy']) {
    assert.ok(FAMILIES.has(name), `${name} read from metrics.md`);
  }
  assert.ok(labelsOf('deepseek_request_duration_seconds_bucket').has('le'));
  assert.equal(labelsOf('deepseek_requests_total_bucket'), null, 'only histograms have buckets');
  assert.ok(labelsOf('deepseek_input_requests_total').has('kind'));
  assert.ok(!labelsOf('deepseek_resource_network_latency_seconds').has('rtt'));
  assert.ok(!labelsOf('deepseek_inference_qps').has('version'));
});

test('dashboard identity and schema', () => {
  assert.equal(dashboard.uid, 'deepwatch-overview');
  assert.ok(dashboard.uid.length <= 40);
  assert.equal(dashboard.id, null, 'id is assigned by the server on import');
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(typeof dashboard.title, 'string');
  assert.ok(Array.isArray(dashboard.panels) && dashboard.panels.length > 0);
  assert.equal(dashboard.__inputs, undefined, 'no __inputs: the JSON imports without an import form');
});

test('template variables: datasource, model, version', () => {
  const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  const ds = vars.get('datasource');
  assert.equal(ds?.type, 'datasource');
  assert.equal(ds.query, 'prometheus');
  for (const name of ['model', 'version']) {
    const v = vars.get(name);
    assert.equal(v?.type, 'query', name);
    assert.deepEqual(v.datasource, DS_REF, `${name} queries through \${datasource}`);
  }
  for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
    assert.deepEqual(v.datasource, DS_REF, `variable ${v.name}`);
    const query = typeof v.query === 'string' ? v.query : v.query.query;
    assert.equal(v.definition, query, `variable ${v.name}: definition and query agree`);
    const m = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(query);
    assert.ok(m, `variable ${v.name}: label_values(selector, label): ${query}`);
    const labels = checkExpr(m[1], `variable ${v.name}`);
    assert.ok(labels.has(m[2]), `variable ${v.name}: ${m[1]} has no label ${m[2]}`);
  }
  assert.match(vars.get('model').definition, /^label_values\(deepseek_requests_total\b.*, model\)$/);
  assert.match(vars.get('version').definition, /^label_values\(deepseek_requests_total\b.*, version\)$/);
});

test('panel ids are unique and every panel queries through ${datasource}', () => {
  const ids = allPanels().map((p) => p.id);
  assert.ok(ids.every((id) => Number.isInteger(id) && id > 0), 'integer ids');
  assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids}`);
  for (const p of allPanels()) {
    if (p.type === 'row') {
      assert.equal(p.targets, undefined, `row ${p.id} has no queries`);
      if (!p.collapsed) assert.deepEqual(p.panels ?? [], [], `open row ${p.id} nests no panels`);
      continue;
    }
    assert.deepEqual(p.datasource, DS_REF, `panel ${p.id} "${p.title}" datasource`);
    assert.ok(p.targets?.length > 0, `panel ${p.id} "${p.title}" has queries`);
    const refIds = p.targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `panel ${p.id}: unique refIds`);
    for (const t of p.targets) {
      assert.deepEqual(t.datasource, DS_REF, `panel ${p.id} target ${t.refId} datasource`);
    }
    assert.ok(typeof p.fieldConfig?.defaults?.unit === 'string', `panel ${p.id} "${p.title}" has a unit`);
  }
  for (const a of dashboard.annotations.list.filter((a) => !a.builtIn)) {
    assert.deepEqual(a.datasource, DS_REF, `annotation ${a.name}`);
  }
});

test('grid: inside 24 columns, no overlaps', () => {
  const boxes = dashboard.panels.map((p) => ({ p, ...p.gridPos }));
  for (const b of boxes) {
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(Number.isInteger(b[k]), `panel ${b.p.id} gridPos.${k}`);
    assert.ok(b.x >= 0 && b.y >= 0 && b.w >= 1 && b.h >= 1 && b.x + b.w <= 24, `panel ${b.p.id} gridPos ${JSON.stringify(b.p.gridPos)}`);
    if (b.p.type === 'row') assert.equal(b.w, 24, `row ${b.p.id} spans the width`);
  }
  for (let i = 0; i < boxes.length; ++i) {
    for (let j = i + 1; j < boxes.length; ++j) {
      const a = boxes[i];
      const b = boxes[j];
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `panels ${a.p.id} "${a.p.title}" and ${b.p.id} "${b.p.title}" overlap`);
    }
  }
});

test('every PromQL expression parses and names only documented metrics and labels', () => {
  const exprs = allExprs();
  assert.ok(exprs.length > 30);
  for (const { where, expr, target } of exprs) {
    assert.equal(typeof expr, 'string', `${where}: expr`);
    const labels = checkExpr(expr, where);
    for (const [, l] of (target.legendFormat ?? target.titleFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      assert.ok(labels.has(l), `${where}: legend {{${l}}} is no label of ${expr}`);
    }
  }
  // The checker itself rejects what it must.
  assert.throws(() => checkExpr('deepseek_no_such_metric', 't'), /not a family/);
  assert.throws(() => checkExpr('deepseek_inference_qps{version="a"}', 't'), /no label "version"/);
  assert.throws(() => checkExpr('sum by (feature) (deepseek_requests_total)', 't'), /"feature"/);
  assert.throws(() => checkExpr('sum(rate(deepseek_requests_total[5m])', 't'), /does not parse/);
});

test('the families of the issue are on the dashboard', () => {
  const used = new Set(allExprs().flatMap(({ expr }) =>
    analyse(interpolate(expr)).selectors.map((s) => s.name)));
  for (const name of ['deepseek_requests_total', 'deepseek_inference_qps',
    'deepseek_request_duration_seconds_bucket', 'deepseek_latency_p99_seconds',
    'deepseek_time_to_first_token_seconds_bucket', 'deepseek_input_kl_divergence',
    'deepseek_input_js_distance', 'deepseek_input_psi', 'deepseek_input_wasserstein_distance',
    'deepseek_input_abnormal_ratio', 'deepseek_output_mean_confidence',
    'deepseek_output_label_drift_index', 'deepseek_output_accuracy', 'deepseek_input_pii_total',
    'deepseek_resource_gpu_utilization_ratio', 'deepseek_resource_kv_cache_usage_ratio',
    'deepseek_resource_queue_length', 'deepseek_replica_up', 'deepseek_alerts_active',
    'deepseek_control_events_total']) {
    assert.ok(used.has(name), `${name} is on the dashboard`);
  }
});

test("thresholds follow the specification's alert rules", () => {
  const stepsOf = (p) => (p.fieldConfig?.defaults?.thresholds?.steps ?? []).map((s) => s.value);
  const expect = [
    [/deepseek_latency_p99_seconds/, [0.5, 0.8]], // R2.1
    [/deepseek_input_kl_divergence/, [0.3, 0.5]], // R2.2
    [/deepseek_input_abnormal_ratio/, [0.1, 0.3]],
    [/deepseek_output_label_drift_index/, [0.2, 0.5]],
    [/deepseek_output_low_confidence_ratio/, [0.3, 0.5]],
    [/deepseek_resource_kv_cache_usage_ratio/, [0.9, 0.97]],
  ];
  for (const [re, values] of expect) {
    const panels = allPanels().filter((p) => (p.targets ?? []).some((t) => re.test(t.expr)));
    assert.ok(panels.length > 0, `a panel reads ${re}`);
    for (const p of panels) {
      for (const v of values) assert.ok(stepsOf(p).includes(v), `panel ${p.id} "${p.title}" threshold ${v}`);
    }
  }
  const errorPanels = allPanels().filter((p) => (p.targets ?? []).some((t) => /code=~"5\.\."/.test(t.expr)));
  assert.ok(errorPanels.length > 0, 'an error-ratio panel (5xx / all)');
  for (const p of errorPanels) assert.deepEqual(stepsOf(p).slice(1), [0.05, 0.2], `panel ${p.id} error ratio`);
});

test('provisioning files point Grafana at the dashboard', () => {
  const ds = parseYaml(readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/deepwatch.yaml'), 'utf8'));
  assert.equal(ds.apiVersion, 1);
  assert.ok(ds.datasources.some((d) => d.type === 'prometheus' && d.access === 'proxy' && /^https?:\/\//.test(d.url)));
  const dash = parseYaml(readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/deepwatch.yaml'), 'utf8'));
  assert.equal(dash.apiVersion, 1);
  const provider = dash.providers.find((p) => p.type === 'file');
  assert.ok(provider?.options?.path, 'a file provider with a path');
  const readme = readFileSync(join(GRAFANA_DIR, 'README.md'), 'utf8');
  assert.ok(readme.includes(provider.options.path), 'README mounts the dashboard where the provider looks');
});

// Prometheus' Go parser, when Debian's prometheus package is installed: each expression as a
// recording rule in a temporary rules file, checked by `promtool check rules`.
test('promtool parses every expression', (t) => {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    t.skip('promtool is not installed');
    return;
  }
  const rules = allExprs().map(({ expr }, i) =>
    `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(interpolate(expr))}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'dw-grafana-'));
  try {
    const file = join(dir, 'dashboard.rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, `promtool check rules:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
