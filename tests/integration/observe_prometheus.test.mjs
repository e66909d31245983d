// A real Prometheus (Debian's `prometheus`) scrapes the gateway's admin listener with the
// specification's scrape job and relabel rule (deploy/prometheus/prometheus.yml, R1.4); PromQL
// then finds input, output and resource series by their metric_type label.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startModel, startGateway, modelConfig, postJson, waitFor } from '../lib/harness.mjs';

const SOURCE = process.env.DEEPWATCH_SOURCE_DIR ?? new URL('../..', import.meta.url).pathname;
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let model;
let gateway;
let prometheus;
let promUrl;
before(async () => {
  if (!hasPrometheus) return;
  model = await startModel(['--version', 'v1', '--token-latency', '1ms']);
  gateway = await startGateway({
    observe: { windows: ['5s', '1m'], drift_window: '5s', min_samples: 5, scrape_interval: '1s',
               labels: { values: ['chinese', 'tang300', 'computers', 'science'] } },
    models: [modelConfig('fortune', [{ id: 'v1', weight: 1, replicas: [model] }])],
  });
  // The shipped configuration, pointed at this gateway and scraping every second.
  const shipped = readFileSync(join(SOURCE, 'deploy/prometheus/prometheus.yml'), 'utf8');
  const admin = new URL(gateway.admin).host;
  const config = shipped
    .replace("['localhost:9090']", `['${admin}']`)
    .replace('scrape_interval: 15s', 'scrape_interval: 1s');
  assert.notEqual(config, shipped);
  const dir = mkdtempSync(join(tmpdir(), 'dw-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: 'ignore' });
});
after(async () => {
  prometheus?.kill('SIGTERM');
  await gateway?.stop();
  await model?.stop();
});

async function query(expr) {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(() => null);
  if (!r || r.status !== 200) return [];
  return (await r.json()).data.result;
}

test('Prometheus scrapes the gateway and finds input, output and resource series', { skip: !hasPrometheus && 'prometheus is not installed' }, async () => {
  for (let i = 0; i < 30; ++i) {
    await postJson(`${gateway.url}/v1/chat/completions`, {
      model: 'fortune',
      messages: [{ role: 'system', content: 'classify' }, { role: 'user', content: 'The computer crashed.' }],
      logprobs: true,
    });
    await postJson(`${gateway.url}/v1/chat/completions`, {
      model: 'fortune', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true,
    });
  }
  const dimensions = await waitFor(async () => {
    const result = await query('count by (dimension) ({metric_type=~".+"})');
    const found = new Set(result.map((r) => r.metric.dimension));
    return ['input', 'output', 'resource'].every((d) => found.has(d)) ? found : null;
  }, { timeout: 30000, interval: 500, what: 'input, output and resource series in Prometheus' });
  assert.ok(dimensions.has('input'));
  // The specification's rule itself: metric_type = "<dimension>_<name>".
  const types = new Set((await query('count by (metric_type) ({metric_type=~".+"})')).map((r) => r.metric.metric_type));
  assert.ok(types.has('input_requests_total'), [...types].join(','));
  assert.ok([...types].some((t) => t.startsWith('output_')), [...types].join(','));
  assert.ok(types.has('resource_queue_length'), [...types].join(','));
  // The scrape is healthy (OpenMetrics negotiated and parsed).
  const up = await query('up{job="deepseek-metrics"}');
  assert.equal(up[0]?.value[1], '1');
  const requests = await query('sum(deepseek_requests_total)');
  assert.ok(Number(requests[0].value[1]) >= 60);
});
