// Detection and alerting end to end (R2, R9) with the reference model's fault switches and a
// real Alertmanager (Debian's prometheus-alertmanager): injected latency raises a warning, then
// a critical alert; Alertmanager's API shows it; removing the fault resolves it; input drift
// raises the KL alert; an Alertmanager that was down receives the firing alert once it is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, startModel, startGateway, modelConfig, postJson, waitFor } from '../lib/harness.mjs';

const hasAlertmanager = spawnSync('prometheus-alertmanager', ['--version']).status === 0;

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let amPort;
let am;
function startAlertmanager() {
  const dir = mkdtempSync(join(tmpdir(), 'dw-am-'));
  writeFileSync(join(dir, 'am.yml'), [
    'route:', '  receiver: default', "  group_by: ['alertname', 'model']",
    '  group_wait: 1s', '  group_interval: 2s', '  repeat_interval: 1h',
    'receivers:', '  - name: default', '',
  ].join('\n'));
  am = spawn('prometheus-alertmanager', [
    `--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=',
  ], { stdio: 'ignore' });
  return waitFor(async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`).catch(() => null))?.status === 200,
    { what: 'Alertmanager to be ready' });
}
async function amAlerts() {
  const r = await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`).catch(() => null);
  return r && r.status === 200 ? r.json() : [];
}

const webhook = [];
let hookServer;
let model;
let gateway;
let load = null;

before(async () => {
  if (!hasAlertmanager) return;
  amPort = await freePort();
  await startAlertmanager();
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      webhook.push(JSON.parse(body));
      res.end('ok');
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => hookServer.once('listening', r));
  model = await startModel(['--version', 'v1']);
  gateway = await startGateway({
    observe: { granularity: '1s', windows: ['3s'], drift_window: '3s', min_samples: 5 },
    alerting: {
      default_rules: false,
      group_wait: '1s', group_interval: '2s', repeat_interval: '1h', resend_delay: '2s',
      rules: [
        { name: 'LatencyP99High', expr: 'deepseek_latency_p99_seconds{window="3s"}', warning: 0.3, critical: 0.6, for: '1s', min_samples: 5 },
        { name: 'InputDistributionShift', expr: 'deepseek_input_kl_divergence{feature="script"}', warning: 0.3, critical: 0.5, for: '0s' },
      ],
      sinks: [
        { type: 'alertmanager', name: 'am', url: `http://127.0.0.1:${amPort}` },
        { type: 'webhook', name: 'hook', url: `http://127.0.0.1:${hookServer.address().port}/hook` },
      ],
    },
    models: [modelConfig('fortune', [{ id: 'v1', weight: 1, replicas: [model] }])],
  });
});
after(async () => {
  await load?.stop();
  await gateway?.stop();
  await model?.stop();
  am?.kill('SIGKILL');
  hookServer?.close();
});

function traffic(content) {
  let running = true;
  const workers = [0, 1].map(async () => {
    while (running) {
      await postJson(`${gateway.url}/v1/chat/completions`, {
        model: 'fortune', messages: [{ role: 'system', content: 'classify' }, { role: 'user', content }],
      });
      await sleep(20);
    }
  });
  return { async stop() { running = false; await Promise.all(workers); } };
}

async function active() {
  return (await (await fetch(`${gateway.admin}/admin/v1/alerts`)).json()).active;
}
const fault = (body) => postJson(`${model.url}/fault`, body);

test('injected latency raises a warning, then a critical alert, seen in Alertmanager; removing it resolves', { skip: !hasAlertmanager && 'prometheus-alertmanager is not installed' }, async () => {
  load = traffic('The computer crashed again.');
  await sleep(3500);
  assert.deepEqual(await active(), []);
  await fault({ latency: '400ms' });
  const injected = Date.now();
  const warning = await waitFor(async () => (await active()).find((a) => a.rule === 'LatencyP99High'), { timeout: 15000, interval: 100, what: 'the warning' });
  const detected = Date.now() - injected;
  assert.equal(warning.severity, 'warning');
  console.log(`# detection latency (fault onset to firing): ${detected} ms (granularity 1 s, for 1 s)`);
  // The bound of the issue: two ticks plus the rule's `for` -- plus the time for P99 of a 3 s
  // window to pass the threshold (1% of its requests slow, well under a tick at this rate).
  assert.ok(detected <= 2000 + 1000 + 1000, `detected after ${detected} ms`);

  await fault({ latency: '700ms' });
  await waitFor(async () => (await active()).find((a) => a.rule === 'LatencyP99High' && a.severity === 'critical'), { timeout: 15000, interval: 100, what: 'the critical alert' });
  const inAm = await waitFor(async () => (await amAlerts()).find((a) => a.labels.alertname === 'LatencyP99High' && a.labels.severity === 'critical' && a.status.state === 'active'), { timeout: 10000, interval: 200, what: 'the critical alert in Alertmanager' });
  assert.equal(inAm.labels.model, 'fortune');
  const groups = await (await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts/groups`)).json();
  assert.ok(groups.some((g) => g.labels.alertname === 'LatencyP99High' && g.labels.model === 'fortune'), JSON.stringify(groups));
  // The warning of the same series is no longer active (inhibited by the critical one).
  await waitFor(async () => !(await amAlerts()).some((a) => a.labels.alertname === 'LatencyP99High' && a.labels.severity === 'warning' && a.status.state === 'active'), { timeout: 10000, what: 'the warning to end in Alertmanager' });

  await fault({ clear: true });
  await waitFor(async () => !(await active()).some((a) => a.rule === 'LatencyP99High'), { timeout: 15000, interval: 200, what: 'the alert to resolve' });
  await waitFor(async () => !(await amAlerts()).some((a) => a.labels.alertname === 'LatencyP99High' && a.status.state === 'active'), { timeout: 10000, what: 'the alert to resolve in Alertmanager' });
  // The webhook received grouped notifications, the last one resolved (it flushes at the group's
  // next interval, which may come after Alertmanager shows the resolution).
  const resolved = () => webhook.filter((n) => n.groupLabels.alertname === 'LatencyP99High');
  await waitFor(async () => resolved().at(-1)?.status === 'resolved', { timeout: 10000, interval: 100, what: 'the resolved webhook notification' });
  const latency = resolved();
  assert.ok(latency.length >= 2, JSON.stringify(latency.map((n) => n.status)));
  assert.equal(latency[0].version, '4');
  assert.ok(latency[0].count >= 1);
  await load.stop();
  load = null;
});

test('input drift raises the KL alert', { skip: !hasAlertmanager && 'prometheus-alertmanager is not installed' }, async () => {
  load = traffic('The senator voted against the bill in the Congress.');
  await sleep(3500);
  const capture = await fetch(`${gateway.admin}/admin/v1/baselines/fortune`, { method: 'POST' });
  assert.equal(capture.status, 200, await capture.text());
  await load.stop();
  load = traffic('床前明月光，疑是地上霜。举头望明月，低头思故乡。');
  try {
    // The window fills with Chinese traffic over a few ticks: warning first, then critical.
    const alert = await waitFor(async () => (await active()).find((a) => a.rule === 'InputDistributionShift' && a.severity === 'critical'), { timeout: 10000, interval: 200, what: 'the critical KL alert' });
    assert.equal(alert.labels.feature, 'script');
  } finally {
    await load.stop();
    load = null;
  }
});

test('an alert that fires while Alertmanager is down arrives once it is back', { skip: !hasAlertmanager && 'prometheus-alertmanager is not installed' }, async () => {
  am.kill('SIGKILL');
  await new Promise((r) => am.once('exit', r));
  load = traffic('The computer crashed again.');
  await fault({ latency: '700ms' });
  await waitFor(async () => (await active()).find((a) => a.rule === 'LatencyP99High'), { timeout: 15000, interval: 100, what: 'the alert to fire' });
  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.match(metrics, /deepseek_alert_notifications_total\{sink="am",result="failed"\} [1-9]/);
  await startAlertmanager();
  const arrived = await waitFor(async () => (await amAlerts()).find((a) => a.labels.alertname === 'LatencyP99High' && a.status.state === 'active'), { timeout: 20000, interval: 200, what: 'the alert to reach the restarted Alertmanager' });
  assert.ok(arrived);
  await fault({ clear: true });
  await load.stop();
  load = null;
  // The command line sees the history.
  const cli = spawnSync(BIN, ['alerts', '--admin', gateway.admin, '--history', '50'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /fired\s+LatencyP99High/);
});
