// The web dashboard (R6) in a real browser: Debian's Chromium driven by npm `playwright-core`
// against a running demo (two reference model versions behind a gateway with authentication on,
// client traffic, a direct deploy of v2). An operator signs in, sees live charts, rolls back from
// the page and finds the rollback under their name in the audit view; a viewer sees no rollback
// button (and the server refuses one anyway); the page loads nothing from another origin and
// breaks no rule of its Content-Security-Policy; the Chinese UI is one click away and is
// remembered. Screenshots (overview, the rollback dialog, audit, zh) go to $DW_TEST_OUTPUT_DIR, else
// <build dir>/test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, startModel, startGateway, modelConfig, chat, waitFor } from '../lib/harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const OUT = process.env.DW_TEST_OUTPUT_DIR ?? join(dirname(dirname(BIN)), 'test-output');
const skip = !existsSync(CHROMIUM) && 'chromium is not installed';

let models = [];
let gateway;
let browser;
const keys = {};
const keyIds = {};
let traffic = null;
let stopTraffic = false;

async function admin(method, path, body, key = keys.admin) {
  const response = await fetch(`${gateway.admin}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, json, text };
}

function rawGet(path) {
  const { port } = new URL(gateway.admin);
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, timeout: 10000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
    request.on('error', reject);
  });
}

const versions = async () => (await admin('GET', '/admin/v1/versions')).json?.versions ?? [];
const stateOf = async (version) => (await versions()).find((v) => v.model === 'fortune' && v.version === version)?.state;

// Client traffic until stopped: bounded in count and time, a few requests in flight.
async function drive(key) {
  const deadline = Date.now() + 120000;
  let sent = 0;
  const worker = async (i) => {
    while (!stopTraffic && Date.now() < deadline && sent < 20000) {
      sent++;
      const prompt = ['Computers are', 'The meaning of life', '床前明月光', 'Work is'][sent % 4];
      await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(chat(prompt, { max_tokens: 8, logprobs: i % 2 === 0, top_logprobs: i % 2 === 0 ? 2 : undefined })),
        signal: AbortSignal.timeout(10000),
      }).then((r) => r.arrayBuffer()).catch(() => null);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
}

before(async () => {
  if (skip) return;
  mkdirSync(OUT, { recursive: true });
  models = await Promise.all([startModel(['--version', 'v1']), startModel(['--version', 'v2'])]);
  gateway = await startGateway({
    security: { auth: true },
    observe: { granularity: '1s', windows: ['5s', '1m'], drift_window: '5s', min_samples: 5 },
    upstream: { health_check: { interval: '250ms', timeout: '500ms', unhealthy_threshold: 1 } },
    models: [
      modelConfig('fortune', [
        { id: 'v1', track: 'stable', weight: 100, replicas: [models[0]] },
        { id: 'v2', track: 'standby', weight: 0, replicas: [models[1]] },
      ]),
    ],
  }, { ready: false });
  keys.admin = readFileSync(join(gateway.configDir, 'state', 'admin.key'), 'utf8').trim();
  await waitFor(async () => (await fetch(`${gateway.admin}/readyz`)).status === 200, { what: '/readyz' });
  for (const [role, user] of [['operator', 'olga'], ['viewer', 'vera'], ['client', 'app']]) {
    const r = await admin('POST', '/admin/v1/keys', { name: `${user}-key`, user, roles: [role] });
    assert.equal(r.status, 200, r.text);
    keys[role] = r.json.key;
    keyIds[role] = r.json.id;
  }
  traffic = drive(keys.client);
  // v2 becomes the stable version by a direct deploy, so that a rollback has somewhere to go.
  const deployed = await admin('POST', '/admin/v1/rollouts', { model: 'fortune', version: 'v2', mode: 'direct', reason: 'dashboard test' });
  assert.equal(deployed.status, 200, deployed.text);
  await waitFor(async () => (await stateOf('v2')) === 'stable', { timeout: 30000, interval: 250, what: 'v2 stable' });
  // A baseline from the first seconds of traffic gives the drift chart something to compare.
  await waitFor(async () => (await admin('POST', '/admin/v1/baselines/fortune?window=5s')).status === 200,
    { timeout: 20000, interval: 500, what: 'a baseline' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  stopTraffic = true;
  await traffic;
  await browser?.close();
  await gateway?.stop();
  await Promise.all(models.map((m) => m.stop()));
});

// A page that records what would betray a broken policy: requests to another origin, CSP
// violations and script errors.
async function openPage(locale = 'en-US') {
  const context = await browser.newContext({ locale, viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  page.problems = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${gateway.admin}/`)) page.problems.push(`request to ${request.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) page.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  await page.goto(`${gateway.admin}/`);
  return page;
}

async function signIn(page, key) {
  await page.fill('#key', key);
  await page.click('#login-form button[type=submit]');
}

const points = (page, chart) => page.getAttribute(`#chart-${chart}`, 'data-points').then(Number);

async function shot(page, name) {
  const file = join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(statSync(file).size > 10000, `${file} is ${statSync(file).size} bytes`);
  console.log(`screenshot: ${file}`);
}

test('the admin listener serves the dashboard with its security headers, and nothing else under /ui/', { skip }, async () => {
  const root = await fetch(`${gateway.admin}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/ui/');
  const index = await fetch(`${gateway.admin}/ui/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('x-frame-options'), 'DENY');
  const html = await index.text();
  assert.ok(!/https?:\/\//.test(html.replace(/http:\/\/www\.w3\.org\/[^"]*/g, '')), 'no absolute URL in the page');
  const again = await fetch(`${gateway.admin}/ui/`, { headers: { 'if-none-match': index.headers.get('etag') } });
  assert.equal(again.status, 304);
  const library = await fetch(`${gateway.admin}/ui/vendor/uPlot.iife.min.js`);
  assert.equal(library.status, 200, 'the chart library is in the build tree (npm ci in web/)');
  assert.match(library.headers.get('content-type'), /^text\/javascript/);
  // fetch() normalises dot segments away, so these go out byte for byte through node:http.
  for (const path of ['/ui/../state/admin.key', '/ui/%2e%2e/%2e%2e/state/admin.key', '/ui/..%2fstate/admin.key']) {
    const escape = await rawGet(path);
    assert.equal(escape.status, 400, path);
    assert.ok(!escape.body.includes(keys.admin), path);
  }
});

test('an operator signs in, sees live charts, rolls back from the page and finds it in the audit view', { skip, timeout: 90000 }, async () => {
  const page = await openPage('en-US');
  await page.waitForURL(/\/ui\/$/);
  await page.waitForSelector('#login:not([hidden])');
  await signIn(page, 'dwk_not_a_key');
  await page.waitForSelector('#login-error:has-text("did not accept")');
  await signIn(page, keys.operator);
  await page.waitForSelector('#who:has-text("olga")');
  assert.match(await page.textContent('#who'), /operator/);
  // The key lives in the tab's session storage, never in the URL.
  assert.ok(!page.url().includes(keys.operator));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('deepwatch.key')), keys.operator);

  // Live charts: every two seconds a poll of /metrics; traffic keeps QPS, latency and errors
  // moving, the host's CPU is always there, drift has its baseline, confidence its logprobs.
  await waitFor(async () => {
    const counts = await Promise.all(['qps', 'latency', 'errors', 'resources', 'drift', 'confidence'].map((c) => points(page, c)));
    return counts.every((n) => n >= 3);
  }, { timeout: 30000, interval: 500, what: 'six charts with data' });
  const qps = await page.evaluate(() => {
    const ring = window.deepwatch.state.ring.items;
    return ring.at(-1).metrics.get(`${ring.at(-1).ns}_inference_qps`)?.map((s) => s.value) ?? [];
  });
  assert.ok(qps.some((v) => v > 0), `QPS ${qps}`);
  assert.ok(await page.locator('#chart-latency canvas').count() >= 1);
  await shot(page, 'dashboard-overview.png');

  // Versions and rollouts: v2 is stable after the deploy; the operator may roll back.
  await page.click('#nav a[data-view=fleet]');
  await page.waitForSelector('tr[data-version=v2][data-state=stable]');
  const rollbackButton = page.locator('button[data-action=rollback][data-model=fortune]');
  await rollbackButton.waitFor();
  assert.equal(await page.isHidden('#fleet-readonly'), true);
  await rollbackButton.click();
  await page.waitForSelector('#confirm[open]');
  await page.fill('#confirm-reason', 'e2e: rollback from the dashboard');
  await shot(page, 'dashboard-rollback.png');
  await page.click('#confirm-ok');
  await page.waitForSelector('#toast:has-text("done")');
  await page.waitForSelector('tr[data-version=v1][data-state=stable]', { timeout: 15000 });
  assert.equal(await stateOf('v1'), 'stable');
  assert.equal(await stateOf('v2'), 'failed');

  // The audit view lists the rollback under the operator's name, with the reason given.
  await page.click('#nav a[data-view=audit]');
  const row = page.locator('tr[data-action=rollback][data-actor=olga][data-outcome=success]').first();
  await row.waitFor({ timeout: 15000 });
  assert.match(await row.textContent(), /models\/fortune/);
  assert.match(await row.textContent(), /e2e: rollback from the dashboard/);
  await shot(page, 'dashboard-audit.png');

  // 中文: the toggle switches every label, and a reload keeps the language and the session.
  await page.click('#lang');
  await page.waitForSelector('#nav a[data-view=audit]:has-text("审计日志")');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.reload();
  await page.waitForSelector('#who:has-text("olga")');
  await page.click('#nav a[data-view=overview]');
  await page.waitForSelector('#view-overview figcaption:has-text("每秒请求数")');
  await waitFor(async () => (await points(page, 'qps')) >= 2, { timeout: 15000, interval: 250, what: 'charts after the reload' });
  await shot(page, 'dashboard-zh.png');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a viewer sees the fleet without any action, the server refuses the action anyway, and revoking the key signs the page out', { skip, timeout: 60000 }, async () => {
  const whoami = await admin('GET', '/admin/v1/whoami', undefined, keys.viewer);
  assert.equal(whoami.json.can['models.rollback'], false);
  assert.equal(whoami.json.can_model.fortune.rollback, false);
  assert.equal(whoami.json.can['audit.list'], true);
  const operator = await admin('GET', '/admin/v1/whoami', undefined, keys.operator);
  assert.equal(operator.json.can_model.fortune.rollback, true);

  const page = await openPage('zh-CN');
  await signIn(page, keys.viewer);
  await page.waitForSelector('#who:has-text("vera")');
  // navigator.language zh-CN: Chinese without touching the toggle.
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.click('#nav a[data-view=fleet]');
  await page.waitForSelector('tr[data-version=v1]');
  await page.waitForSelector('#fleet-readonly:not([hidden])');
  assert.equal(await page.locator('button[data-action]').count(), 0);
  const refused = await admin('POST', '/admin/v1/rollback', { model: 'fortune', reason: 'not allowed' }, keys.viewer);
  assert.equal(refused.status, 403);
  // A revoked key signs the page out at its next poll, and the key leaves the tab.
  assert.equal((await admin('DELETE', `/admin/v1/keys/${keyIds.viewer}`)).status, 200);
  await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('deepwatch.key')), null);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
