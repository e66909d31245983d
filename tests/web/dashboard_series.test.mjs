// The dashboard's pure modules (web/src/prom.js, series.js, i18n.js) under Node: the exposition
// parser, the chart derivations (rates from counter differences, the shortest window, the model
// filter) and the dictionaries (every key in both languages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, byName } from '../../web/src/prom.js';
import { Ring, chartData, pointsWithData, namespaceOf, CHARTS } from '../../web/src/series.js';
import { DICTIONARIES, initialLanguage, setLanguage, t } from '../../web/src/i18n.js';

const exposition = (qps, ok, errors, upstream) => `# HELP deepseek_build_info Build.
# TYPE deepseek_build_info gauge
deepseek_build_info{version="0.1.0"} 1
deepseek_inference_qps{model="fortune"} ${qps}
deepseek_inference_qps{model="private"} 1
deepseek_latency_p50_seconds{model="fortune",version="v1",window="1m"} 0.020
deepseek_latency_p99_seconds{model="fortune",version="v1",window="1m"} 0.200
deepseek_latency_p99_seconds{model="fortune",version="v1",window="5s"} 0.150
deepseek_latency_p99_seconds{model="fortune",version="v2",window="5s"} 0.250
deepseek_latency_p50_seconds{model="fortune",version="v1",window="5s"} 0.010
deepseek_requests_total{model="fortune",version="v1",endpoint="chat",code="200",stream="false"} ${ok}
deepseek_requests_total{model="fortune",version="v1",endpoint="chat",code="503",stream="false"} ${errors}
deepseek_upstream_errors_total{reason="reset"} ${upstream}
deepseek_output_mean_confidence{model="fortune",window="5s"} NaN
deepseek_resource_host_cpu_utilization_ratio 0.25
weird line without value
deepseek_labels_escaped{path="a\\"b\\\\c\\nd"} +Inf
`;

function snapshot(t, text) {
  const names = byName(parsePrometheusText(text));
  return { t, ns: namespaceOf(names), metrics: names };
}

test('the parser reads names, labels with escapes, special values, and skips bad lines', () => {
  const samples = parsePrometheusText(exposition(3, 90, 10, 1));
  assert.equal(samples.skipped, 1);
  const escaped = samples.find((s) => s.name === 'deepseek_labels_escaped');
  assert.deepEqual(escaped.labels, { path: 'a"b\\c\nd' });
  assert.equal(escaped.value, Infinity);
  assert.ok(Number.isNaN(samples.find((s) => s.name === 'deepseek_output_mean_confidence').value));
  assert.equal(namespaceOf(byName(samples)), 'deepseek');
  assert.equal(namespaceOf(byName(parsePrometheusText('acme_build_info{version="1"} 1'))), 'acme');
});

test('charts derive QPS, the shortest window\'s worst percentile and error rates from counters', () => {
  const ring = new Ring(3);
  ring.push(snapshot(100, exposition(3, 90, 10, 1)));
  ring.push(snapshot(102, exposition(5, 180, 20, 5)));
  const qps = chartData(ring, 'qps', '');
  assert.deepEqual(qps, [[100, 102], [4, 6]]);
  assert.deepEqual(chartData(ring, 'qps', 'fortune')[1], [3, 5]);
  // 5s is shorter than 1m; the worst version's P99 is v2's 250 ms.
  const latency = chartData(ring, 'latency', 'fortune');
  assert.deepEqual(latency[1], [10, 10]);
  assert.deepEqual(latency[2], [null, null]); // no P95 family
  assert.deepEqual(latency[3], [250, 250]);
  // 10 errors of 100 new requests; 4 upstream errors in 2 s. The first poll has no rate.
  const errors = chartData(ring, 'errors', '');
  assert.deepEqual(errors[1], [null, 10]);
  assert.deepEqual(errors[2], [null, 2]);
  assert.equal(pointsWithData(errors), 1);
  // NaN confidence is no data; the host CPU is a percentage.
  assert.equal(pointsWithData(chartData(ring, 'confidence', '')), 0);
  assert.deepEqual(chartData(ring, 'resources', '')[3], [25, 25]);
  // A model filter with no traffic gives empty series, not zeros.
  assert.equal(pointsWithData(chartData(ring, 'latency', 'nothing')), 0);
  // The ring keeps the newest polls only.
  ring.push(snapshot(104, exposition(5, 180, 20, 5)));
  ring.push(snapshot(106, exposition(5, 180, 20, 5)));
  assert.deepEqual(chartData(ring, 'qps', '')[0], [102, 104, 106]);
});

test('a counter reset gives no rate rather than a negative one', () => {
  const ring = new Ring(5);
  ring.push(snapshot(0, exposition(1, 500, 50, 9)));
  ring.push(snapshot(2, exposition(1, 10, 0, 0)));
  const errors = chartData(ring, 'errors', '');
  assert.deepEqual(errors[1], [null, null]);
  assert.deepEqual(errors[2], [null, null]);
});

test('every dictionary has every key, every series has a label, and the language is remembered', () => {
  assert.deepEqual(Object.keys(DICTIONARIES.zh).sort(), Object.keys(DICTIONARIES.en).sort());
  for (const spec of Object.values(CHARTS)) for (const key of spec.series) assert.ok(DICTIONARIES.en[key], key);
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  assert.equal(initialLanguage(storage, 'zh-CN'), 'zh');
  assert.equal(initialLanguage(storage, 'en-US'), 'en');
  setLanguage('zh', storage);
  assert.equal(initialLanguage(storage, 'en-US'), 'zh');
  assert.equal(t('action.done', { action: '回滚', model: 'fortune' }), 'fortune 的回滚：已完成');
  setLanguage('en', storage);
  assert.equal(t('action.done', { action: 'Roll back', model: 'fortune' }), 'Roll back of fortune: done');
});

test('the audit view shows each finished operation once, and a request without an outcome', async () => {
  const { visibleAuditEntries } = await import('../../web/src/panels.js');
  const entry = (id, details) => ({ event: { id }, deepwatch: { audit: { details: JSON.stringify(details) } } });
  const entries = [
    entry('a1', { stage: 'request', method: 'POST' }),
    entry('a2', { stage: 'response', status: 200, request_audit_id: 'a1' }),
    entry('b1', { stage: 'request', method: 'POST' }), // cut by a crash: no response
    entry('c1', {}), // the controller's own action
    { event: { id: 'd1' }, deepwatch: { audit: { details: 'not json' } } },
  ];
  assert.deepEqual(visibleAuditEntries(entries).map((e) => e.event.id), ['a2', 'b1', 'c1', 'd1']);
});
