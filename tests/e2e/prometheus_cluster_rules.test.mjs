// deploy/prometheus/cluster_rules.yml (R9, issue 10: several gateways as one service) against
// what makes it true: every series it reads is one a real gateway exports, with the labels the
// rules group by (read from a running deepwatch, not from a list); recorded names follow
// level:metric:operations with the level being the labels the tests see; every recorded series
// is asserted by the promtool unit tests (deploy/prometheus/tests); and those unit tests fail
// when a rule is broken in the ways that matter across instances (averaging instead of summing,
// counting a gateway twice, another job's targets). ctest runs `promtool check rules` and
// `promtool test rules` on their own (prometheus.check_rules, prometheus.test_rules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { BIN, chat, modelConfig, postJson, startGateway, startModel, waitFor } from '../lib/harness.mjs';
import { startEtcd } from '../lib/etcd.mjs';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const RULES_FILE = join(DEPLOY, 'prometheus/cluster_rules.yml');
const TESTS_FILE = join(DEPLOY, 'prometheus/tests/cluster_rules.test.yml');
const rules = parseYaml(readFileSync(RULES_FILE, 'utf8'));
const unitTests = parseYaml(readFileSync(TESTS_FILE, 'utf8'));
const allRules = rules.groups.flatMap((g) => g.rules);
const recorded = new Set(allRules.filter((r) => r.record).map((r) => r.record));
const hasPromtool = !spawnSync('promtool', ['--version']).error;

// Selectors (metric name and matcher labels) and grouping labels of a PromQL expression, by
// Prometheus' own grammar.
function analyse(expr) {
  const tree = parser.parse(expr);
  const text = (n) => expr.slice(n.from, n.to);
  const out = { errors: [], selectors: [], grouping: [] };
  const walk = (node) => {
    if (node.type.isError) out.errors.push(`at ${node.from}`);
    if (node.name === 'VectorSelector') {
      const labels = [];
      const collect = (n) => {
        if (n.name === 'LabelName') labels.push(text(n));
        for (let c = n.firstChild; c; c = c.nextSibling) collect(c);
      };
      const matchers = node.getChild('LabelMatchers');
      if (matchers) collect(matchers);
      const id = node.getChild('Identifier');
      out.selectors.push({ name: id ? text(id) : null, labels });
    }
    if (node.name === 'GroupingLabels') {
      for (let c = node.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName') out.grouping.push(text(c));
    }
    for (let c = node.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(tree.topNode);
  return out;
}

// --- A real gateway's exposition ------------------------------------------------------------

let model;
let gateway;
let etcd;
let exposition = '';
before(async () => {
  if (!existsSync(BIN)) return;
  model = await startModel();
  etcd = await startEtcd(1);
  // A zone and a cluster, as the multi-instance configuration sets them:
  // deepseek_cross_zone_requests_total and deepseek_cluster_leader are exported only then.
  gateway = await startGateway({
    zone: 'eu-a',
    control: { cluster: { etcd: etcd.members.map((m) => m.url), name: 'gw-a', lease_ttl: '4s' } },
    models: [modelConfig('fortune', [{ id: 'v1', track: 'stable', weight: 100, replicas: [model] }])],
  });
  await postJson(`${gateway.url}/v1/chat/completions`, chat('hello'));
  await postJson(`${gateway.url}/v1/chat/completions`, chat('hello', { stream: true }));
  exposition = await waitFor(
    async () => {
      const text = await (await fetch(`${gateway.admin}/metrics`)).text();
      return /^deepseek_time_to_first_token_seconds_bucket\{/m.test(text) && /^deepseek_cluster_leader 1$/m.test(text) ? text : null;
    },
    { what: 'the histograms on /metrics' },
  );
});
after(async () => {
  await gateway?.stop();
  await model?.stop();
  etcd?.stop();
});

// name -> Set of label names seen on its samples (Prometheus text format).
function samples(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]) ?? new Set();
    for (const [, l] of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(l);
    out.set(m[1], labels);
  }
  return out;
}

// Labels every scraped series carries besides its own (the `deepwatch` job's target labels).
const TARGET_LABELS = ['job', 'instance', 'pod', 'namespace'];

const NO_BINARY = !existsSync(BIN) && `no deepwatch binary at ${BIN}`;

test('every series the rules read is exported by deepwatch, with the labels they use', { skip: NO_BINARY }, () => {
  const exported = samples(exposition);
  assert.ok(exported.has('deepseek_requests_total'), 'the scrape was read');
  let read = 0;
  for (const rule of allRules) {
    const where = rule.record ?? rule.alert;
    const { errors, selectors, grouping } = analyse(rule.expr);
    assert.deepEqual(errors, [], `${where}: PromQL parses`);
    const available = new Set([...TARGET_LABELS]);
    for (const { name, labels } of selectors) {
      if (recorded.has(name)) {
        // A recorded series carries the labels of its level (model_version_le -> model, version, le).
        name.split(':')[0].split('_').forEach((l) => available.add(l));
        continue;
      }
      if (name === 'up') continue; // Prometheus' own, per target.
      assert.ok(exported.has(name), `${where}: deepwatch exports no ${name}`);
      read++;
      const own = exported.get(name);
      for (const l of labels) assert.ok(own.has(l) || TARGET_LABELS.includes(l), `${where}: ${name} has no label ${l}`);
      own.forEach((l) => available.add(l));
    }
    for (const l of grouping) assert.ok(available.has(l), `${where}: groups by ${l}, which no series it reads has`);
  }
  assert.ok(read >= 8, `${read} selectors of exported series`);
  // The checker itself refuses what it must.
  assert.deepEqual(analyse('sum(rate(x[1m])').errors.length > 0, true);
});

test('recorded names are level:metric:operations, the level being the labels the unit tests see', () => {
  const tested = new Map(); // record -> [label sets seen in exp_samples]
  for (const t of unitTests.tests) {
    for (const e of t.promql_expr_test ?? []) {
      const name = /^[a-zA-Z_:][\w:]*/.exec(e.expr)[0];
      for (const s of e.exp_samples) {
        const labels = [...s.labels.matchAll(/([a-z_]+)="/g)].map((m) => m[1]).sort();
        tested.set(name, [...(tested.get(name) ?? []), labels]);
      }
    }
  }
  for (const name of recorded) {
    const m = /^([a-z]+(?:_[a-z]+)*):([a-z][a-z0-9_]*):([a-z][a-z0-9_]*)$/.exec(name);
    assert.ok(m, `${name}: level:metric:operations`);
    const [, level, metric, operations] = m;
    if (operations.includes('rate')) assert.ok(!metric.endsWith('_total'), `${name}: _total is dropped under rate()`);
    if (operations.startsWith('ratio')) assert.match(metric, /_per_/, `${name}: a ratio names numerator_per_denominator`);
    // Intermediate bucket rates are asserted through the quantiles computed from them.
    if (metric.endsWith('_bucket')) {
      const users = allRules.filter((r) => r.expr.includes(name) && tested.has(r.record));
      assert.ok(users.length >= 3, `${name}: read by tested quantiles`);
      continue;
    }
    assert.ok(tested.has(name), `${name}: asserted in ${TESTS_FILE}`);
    for (const labels of tested.get(name)) {
      assert.deepEqual(labels, level.split('_').sort(), `${name}: samples have the level's labels`);
    }
  }
});

test('the alerts on `up` name the scrape job that deploy/k8s documents', () => {
  const adapter = readFileSync(join(DEPLOY, 'k8s/prometheus-adapter.yaml'), 'utf8');
  const job = /^#\s+- job_name: (\S+)$/m.exec(adapter)?.[1];
  assert.equal(job, 'deepwatch');
  for (const rule of allRules) {
    for (const { name, labels } of analyse(rule.expr).selectors) {
      if (name === 'up') {
        assert.ok(labels.includes('job'), `${rule.alert ?? rule.record}: up{job=...}`);
        assert.match(rule.expr, new RegExp(`up\\{job="${job}"\\}`));
      }
    }
  }
  const alerts = allRules.filter((r) => r.alert).map((r) => r.alert);
  assert.deepEqual(alerts, ['DeepwatchInstanceDown', 'DeepwatchInstancesBelowMinimum', 'DeepwatchLeaderCount', 'DeepwatchSingleZone']);
});

test('the promtool unit tests fail on rules broken across instances', { skip: !hasPromtool && 'promtool is not installed' }, () => {
  const original = readFileSync(RULES_FILE, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'dw-rules-'));
  try {
    mkdirSync(join(dir, 'tests'));
    copyFileSync(TESTS_FILE, join(dir, 'tests/cluster_rules.test.yml'));
    const run = (text) => {
      writeFileSync(join(dir, 'cluster_rules.yml'), text);
      return spawnSync('promtool', ['test', 'rules', join(dir, 'tests/cluster_rules.test.yml')], { encoding: 'utf8' });
    };
    const ok = run(original);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const mutations = [
      // The mean of the gateways' own quantiles weighs a quiet gateway like a busy one.
      [
        'histogram_quantile(0.99, model_version_le:deepseek_request_duration_seconds_bucket:rate1m)',
        'avg by (model, version) (histogram_quantile(0.99, sum by (model, version, le, instance) ' +
          '(rate(deepseek_request_duration_seconds_bucket[1m]))))',
      ],
      [
        'histogram_quantile(0.50, model_version_le:deepseek_time_to_first_token_seconds_bucket:rate1m)',
        'avg by (model, version) (histogram_quantile(0.50, sum by (model, version, le, instance) ' +
          '(rate(deepseek_time_to_first_token_seconds_bucket[1m]))))',
      ],
      // The busiest gateway's buckets instead of all of them. (Their mean would do no harm: every
      // gateway exports every bucket, and a quantile does not change when all buckets are scaled.)
      ['sum by (model, version, le) (rate(deepseek_request_duration', 'max by (model, version, le) (rate(deepseek_request_duration'],
      ['sum by (model, version, le) (rate(deepseek_time_to_first_token', 'max by (model, version, le) (rate(deepseek_time_to_first_token'],
      // Every answer counted as an error, or the errors not summed over the gateways.
      ['rate(deepseek_requests_total{code=~"5.."}[1m])', 'rate(deepseek_requests_total[1m])'],
      ['sum by (model, version) (rate(deepseek_requests_total{code=~"5.."}', 'max by (model, version) (rate(deepseek_requests_total{code=~"5.."}'],
      // A gateway counted once per model, or another job's targets counted as gateways.
      ['max by (zone, instance)', 'max by (zone, instance, model)'],
      ['sum by (job) (up{job="deepwatch"})\n', 'sum by (job) (up)\n'],
      ['sum by (job) (up{job="deepwatch"}) or on() vector(0)', 'sum by (job) (up) or on() vector(0)'],
      ['up{job="deepwatch"} == 0', 'up{job="deepwatch"} == 0 and on() vector(0) > 1'],
      ['count(count by (zone) (deepseek_cross_zone_requests_total)) < 2', 'count(deepseek_cross_zone_requests_total) < 2'],
      ['sum by (model) (deepseek_in_flight_requests)', 'avg by (model) (deepseek_in_flight_requests)'],
      ['sum by (model) (deepseek_queue_length)', 'max by (model) (deepseek_queue_length)'],
    ];
    for (const [from, to] of mutations) {
      assert.ok(original.includes(from), `the rules contain ${from}`);
      const r = run(original.replace(from, to));
      assert.notEqual(r.status, 0, `promtool test rules passes with ${from} -> ${to}`);
      assert.match(r.stdout + r.stderr, /FAILED/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
