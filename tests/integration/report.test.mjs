// The weekly report (R6) through `deepwatch report`: a state directory seeded with a synthetic
// fortnight (`--seed-demo-data`, for demos and tests), then the HTML and JSON of the week are
// checked: every section, inline SVG charts and no external resource, noised counts with the
// epsilon stated, a capacity recommendation, and the ledger's refusal once the budget is spent.
// When Chromium is installed, a headless screenshot of the page goes to the test output
// directory (DW_TEST_OUTPUT_DIR, or a temp directory) and must be a non-trivial PNG.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../lib/harness.mjs';

const FROM = '2026-03-02T00:00:00Z';
const TO = '2026-03-09T00:00:00Z';
const CHROMIUM = '/usr/bin/chromium';

function report(args) {
  const result = spawnSync(BIN, ['--log-level', 'warn', 'report', ...args], {
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const HEADINGS = [
  '概览 Overview',
  '准确率趋势 Accuracy trend',
  '延迟分布 Latency distribution',
  '硬件利用率 Hardware utilisation',
  '异常事件 Anomaly events',
  '发布与回滚 Rollouts and rollbacks',
  'A/B 实验 Experiments',
  '数据漂移 Drift',
  '周环比 Week-over-week deltas',
  '容量建议 Capacity recommendation',
];

function count(text, needle) {
  return text.split(needle).length - 1;
}

const dir = mkdtempSync(join(tmpdir(), 'dw-report-'));
const html = join(dir, 'report.html');
after(() => rmSync(dir, { recursive: true, force: true }));

test('report over a seeded week: HTML, JSON, privacy and the ledger', () => {
  const state = join(dir, 'var');
  let r = report(['--state-dir', state, '--from', FROM, '--to', TO, '--seed-demo-data']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(state, 'deepwatch.db')));

  const json = join(dir, 'report.json');
  r = report(['--state-dir', state, '--from', FROM, '--to', TO, '-o', html, '--json', json,
    '--epsilon', '1.0', '--budget', '1.5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report\/2026-03-02/);

  const page = readFileSync(html, 'utf8');
  for (const heading of HEADINGS) assert.ok(page.includes(heading), heading);
  assert.ok(count(page, '<svg') >= 8, 'inline SVG charts');
  assert.equal(count(page, '<svg'), count(page, '</svg>'));
  assert.ok(!/https?:\/\//.test(page), 'no external resource');
  assert.ok(!page.includes('<script'), 'no script');
  assert.ok(page.includes('l3_rollback'));

  const data = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(data.period.from, FROM);
  assert.equal(data.period.to, TO);
  assert.equal(data.privacy.epsilon, 1);
  assert.equal(data.privacy.release, 'report/2026-03-02');
  assert.ok(data.privacy.noised.length > 0);
  assert.deepEqual(data.accuracy_trend.map((v) => v.version), ['v1', 'v2']);
  assert.equal(data.traffic.days.length, 7);
  assert.equal(data.latency.histogram.length, 21);
  assert.ok(data.latency.p99_ms > data.latency.p50_ms);
  assert.ok(data.anomalies.total > 0);
  assert.equal(data.rollouts.rollbacks, 1);
  assert.equal(data.week_over_week.length, 7);
  assert.equal(data.capacity.length, 1);
  const capacity = data.capacity[0];
  assert.equal(capacity.recommended_replicas,
    Math.max(1, Math.ceil(capacity.peak_qps / capacity.per_replica_qps / (1 - 0.3) - 1e-9)));
  assert.match(capacity.explanation, /ceil\(/);

  // The budget of this week's release is 1.5: a second release at epsilon 1 is refused.
  r = report(['--state-dir', state, '--from', FROM, '--to', TO, '-o', join(dir, 'again.html'),
    '--budget', '1.5']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /privacy budget of report\/2026-03-02 is exhausted/);
  assert.ok(!existsSync(join(dir, 'again.html')));
});

// Chromium comes with the bootstrap; without it there is no screenshot to take.
test('a headless screenshot of the report is a non-trivial PNG',
  { skip: !existsSync(CHROMIUM) && 'chromium is not installed' }, () => {
  assert.ok(existsSync(html), 'the report of the first test');
  const out = process.env.DW_TEST_OUTPUT_DIR ?? join(tmpdir(), 'deepwatch-test-output');
  mkdirSync(out, { recursive: true });
  const png = join(out, 'report.png');
  rmSync(png, { force: true });
  const shot = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu',
    `--screenshot=${png}`, '--window-size=1280,4000', `file://${html}`],
  { encoding: 'utf8', timeout: 120000 });
  assert.equal(shot.status, 0, shot.stderr);
  const bytes = readFileSync(png);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(statSync(png).size > 20000, `screenshot of ${statSync(png).size} bytes`);
});

test('the default period is the last full week, and an empty one still renders', () => {
  const out = join(dir, 'empty.html');
  const r = report(['--state-dir', join(dir, 'empty-state'), '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const page = readFileSync(out, 'utf8');
  for (const heading of HEADINGS) assert.ok(page.includes(heading), heading);
  assert.ok(page.includes('No data in this period'));
  const [, from, to] = r.stdout.match(/^report (\S+) to (\S+):/);
  assert.equal(new Date(from).getUTCDay(), 1, 'a Monday');
  assert.equal(Date.parse(to) - Date.parse(from), 7 * 24 * 3600 * 1000);
  assert.ok(Date.parse(to) <= Date.now() && Date.now() - Date.parse(to) < 7 * 24 * 3600 * 1000);
});

test('report rejects a bad time', () => {
  const r = report(['--state-dir', join(tmpdir(), 'dw-report-unused'), '--from', 'yesterday']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an ISO-8601 UTC time/);
});
