// Latency-based outlier ejection (docs/design/outlier-detection.md) against real reference
// replicas: a replica made slow with its POST /fault stops getting traffic within a bound while
// the clients' latency returns to its baseline, it gets traffic again once the fault is cleared
// and its ejection has run out, and a version of one replica is never ejected for latency. An
// ejection for failures ends as soon as health checks see the replica down and back (a restart,
// an engine that returns), not a whole ejection later.
// Recovery is measured in real time and asserted against its budget (STYLE.md, Tests).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startModel, startGateway, modelConfig, postJson, chat, waitFor, metricValue } from '../lib/harness.mjs';

const started = [];
after(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

const INJECTED_MS = 400;
const BASE_EJECTION_S = 4;
const EJECT_BUDGET_S = 10; // From the injection to the slow replica's share at ~0.
const RETURN_BOUND_S = 5; // After the ejection runs out, the cleared replica serves again within it.

async function replica() {
  const m = await startModel(['--prefill-latency', '5ms', '--token-latency', '2ms']);
  started.push(m);
  return m;
}

async function gatewayFor(replicas, { workers = 2, outlier = {} } = {}) {
  const g = await startGateway({
    workers,
    upstream: {
      health_check: { interval: '200ms', timeout: '1s' },
      outlier_detection: {
        base_ejection: `${BASE_EJECTION_S}s`,
        max_ejection_percent: 50,
        interval: '500ms',
        latency_factor: 3,
        latency_min: '200ms',
        latency_min_requests: 5,
        ...outlier,
      },
    },
    models: [modelConfig('fortune', [{ id: 'v1', track: 'stable', weight: 100, replicas }])],
  });
  started.push(g);
  return g;
}

const fault = (m, body) => postJson(`${m.url}/fault`, body);

// Completed inference requests of a replica, from its own /metrics (vLLM's counter).
async function served(m) {
  const text = await (await fetch(`${m.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('vllm:request_success_total{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function ejections(text, m, reason) {
  return (
    metricValue(
      text,
      `deepseek_upstream_ejections_total{model="fortune",version="v1",replica="${m.url}",reason="${reason}"}`,
    ) ?? 0
  );
}

// A closed-loop load of `concurrency` clients until stop(); every request's start, latency and
// status is kept.
function load(url, concurrency) {
  const requests = [];
  let running = true;
  const clients = Array.from({ length: concurrency }, async (_, c) => {
    for (let i = 0; running; ++i) {
      const t0 = performance.now();
      const r = await postJson(`${url}/v1/chat/completions`, chat('The computer', { max_tokens: 4, seed: c * 100000 + i }));
      requests.push({ start: t0, ms: performance.now() - t0, status: r.status });
    }
  });
  return {
    requests,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// Per-replica completion counts sampled every 200 ms: [{t, counts}].
function sampler(replicas) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push({ t: performance.now(), counts: await Promise.all(replicas.map(served)) });
      await sleep(200);
    }
  })();
  return {
    samples,
    // The share of replica `i` in the completions of the `seconds` before `at` (null: too few).
    share(i, at, seconds) {
      const end = samples.findLast((s) => s.t <= at);
      const begin = samples.findLast((s) => s.t <= at - seconds * 1000);
      if (!end || !begin || end === begin) return null;
      const delta = end.counts.map((c, k) => c - begin.counts[k]);
      const total = delta.reduce((a, b) => a + b, 0);
      return total < 10 ? null : delta[i] / total;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

test('a slow replica is ejected for latency, and gets traffic again once it is fast', async () => {
  const replicas = [await replica(), await replica(), await replica()];
  const slow = replicas[1];
  const g = await gatewayFor(replicas);
  const clients = load(g.url, 6);
  const counts = sampler(replicas);
  try {
    // Baseline: three healthy replicas, nothing ejected, every one of them busy.
    await sleep(3000);
    const baselineFrom = performance.now() - 2000;
    const baseline = clients.requests.filter((r) => r.start >= baselineFrom).map((r) => r.ms);
    const baselineP50 = percentile(baseline, 0.5);
    assert.ok(baseline.length >= 50, `baseline requests: ${baseline.length}`);
    assert.ok(counts.share(1, performance.now(), 2) > 0.1, 'the replica to be slowed serves its share first');
    let metrics = await (await fetch(`${g.admin}/metrics`)).text();
    for (const m of replicas) assert.equal(ejections(metrics, m, 'latency'), 0, 'nothing is ejected while all are fast');

    // Inject: every answer of one replica takes 400 ms more.
    assert.equal((await fault(slow, { latency: `${INJECTED_MS}ms` })).status, 200);
    const injected = performance.now();
    const ejectedAt = await waitFor(
      () => {
        const share = counts.share(1, performance.now(), 2);
        return share !== null && share <= 0.02 && performance.now();
      },
      { timeout: (EJECT_BUDGET_S + 5) * 1000, interval: 100, what: 'the slow replica to stop getting traffic' },
    );
    const ejectSeconds = (ejectedAt - injected) / 1000;
    metrics = await (await fetch(`${g.admin}/metrics`)).text();
    assert.ok(ejections(metrics, slow, 'latency') >= 1, 'counted as a latency ejection');
    assert.equal(ejections(metrics, replicas[0], 'latency'), 0, 'the fast replicas stay');
    assert.equal(ejections(metrics, replicas[2], 'latency'), 0, 'the fast replicas stay');
    assert.match(g.stderr, new RegExp(`ejecting replica ${slow.url} of fortune v1 for \\S+: latency \\d+ ms`));

    // While it is out, the clients' latency is back to its baseline.
    const windowFrom = performance.now();
    await sleep(1500);
    const during = clients.requests.filter((r) => r.start >= windowFrom && r.start + r.ms <= performance.now());
    const duringP50 = percentile(during.map((r) => r.ms), 0.5);
    const duringP99 = percentile(during.map((r) => r.ms), 0.99);
    assert.ok(during.length >= 100, `requests while ejected: ${during.length}`);
    assert.ok(duringP50 <= Math.max(2 * baselineP50, baselineP50 + 20), `P50 ${duringP50} ms against the baseline ${baselineP50} ms`);
    assert.ok(duringP99 < INJECTED_MS, `requests wait for the slow replica no more while it is out (P99 ${duringP99} ms)`);

    // Clear the fault: once its ejection runs out the replica is judged afresh and stays.
    assert.equal((await fault(slow, { latency: '0s' })).status, 200);
    const cleared = performance.now();
    const backAt = await waitFor(
      () => {
        const share = counts.share(1, performance.now(), 1);
        return share !== null && share >= 0.1 && performance.now();
      },
      { timeout: (2 * BASE_EJECTION_S + RETURN_BOUND_S + 5) * 1000, interval: 100, what: 'the replica to get traffic again' },
    );
    const backSeconds = (backAt - cleared) / 1000;
    // Its longest possible ejection so far: a second one in a row lasts twice the base.
    metrics = await (await fetch(`${g.admin}/metrics`)).text();
    const inARow = Math.min(ejections(metrics, slow, 'latency'), 2);
    await sleep(2000);
    assert.ok(counts.share(1, performance.now(), 2) >= 0.1, 'it keeps its share once back');
    const failed = clients.requests.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, 'no request failed');
    console.log(
      `latency ejection: baseline P50 ${baselineP50.toFixed(1)} ms; share ~0 ${ejectSeconds.toFixed(1)} s after ` +
        `injecting ${INJECTED_MS} ms; P50 while ejected ${duringP50.toFixed(1)} ms (P99 ${duringP99.toFixed(0)} ms); ` +
        `traffic again ${backSeconds.toFixed(1)} s after clearing (base ejection ${BASE_EJECTION_S} s); ` +
        `${ejections(metrics, slow, 'latency')} worker ejection(s)`,
    );
    assert.ok(ejectSeconds <= EJECT_BUDGET_S, `ejected ${ejectSeconds.toFixed(1)} s after the injection (budget ${EJECT_BUDGET_S} s)`);
    assert.ok(
      backSeconds <= inARow * BASE_EJECTION_S + RETURN_BOUND_S,
      `back ${backSeconds.toFixed(1)} s after clearing (ejection ${inARow * BASE_EJECTION_S} s + ${RETURN_BOUND_S} s)`,
    );
  } finally {
    await clients.stop();
    await counts.stop();
  }
});

test('a version of one replica is never ejected for latency: it has no peers', async () => {
  const only = await replica();
  const g = await gatewayFor([only]);
  assert.equal((await fault(only, { latency: `${INJECTED_MS}ms` })).status, 200);
  const clients = load(g.url, 4);
  await sleep(3000);
  await clients.stop();
  const metrics = await (await fetch(`${g.admin}/metrics`)).text();
  assert.equal(ejections(metrics, only, 'latency'), 0);
  assert.ok(clients.requests.length >= 10, `requests: ${clients.requests.length}`);
  assert.ok(clients.requests.every((r) => r.status === 200), 'every request was answered');
  assert.ok(percentile(clients.requests.map((r) => r.ms), 0.5) >= INJECTED_MS, 'all of them by the slow replica');
});

test('an ejection for failures ends when health checks see the replica recover, not a whole ejection later', async () => {
  const replicas = [await replica(), await replica()];
  const [steady, flaky] = replicas;
  // One worker, so that no other worker's view hides the ejection; a long ejection to outlast.
  const g = await gatewayFor(replicas, { workers: 1, outlier: { base_ejection: '60s', consecutive_failures: 3 } });
  const clients = load(g.url, 2);
  const counts = sampler(replicas);
  try {
    await waitFor(() => (counts.share(1, performance.now(), 1) ?? 0) > 0.2, { what: 'both replicas to serve' });
    // The engine goes away: inference and /health answer 503, so the gateway ejects it for its
    // failures and the health checks mark it down.
    assert.equal((await fault(flaky, { unavailable: true })).status, 200);
    await waitFor(
      async () => {
        const metrics = await (await fetch(`${g.admin}/metrics`)).text();
        return (
          ejections(metrics, flaky, 'consecutive_failures') >= 1 &&
          metricValue(metrics, `deepseek_replica_up{model="fortune",version="v1",replica="${flaky.url}"}`) === 0
        );
      },
      { what: 'the failing replica to be ejected and marked down' },
    );
    await waitFor(() => counts.share(1, performance.now(), 1) === 0, { what: 'the failing replica to serve nothing' });
    assert.equal((await fault(flaky, { clear: true })).status, 200);
    const cleared = performance.now();
    const backAt = await waitFor(
      () => {
        const share = counts.share(1, performance.now(), 1);
        return share !== null && share >= 0.2 && performance.now();
      },
      { timeout: 15000, interval: 100, what: 'the recovered replica to get traffic again (its ejection lasts 60 s)' },
    );
    console.log(`recovered replica back in rotation ${((backAt - cleared) / 1000).toFixed(1)} s after its engine returned`);
    assert.equal(steady.child.exitCode, null);
    assert.ok(clients.requests.every((r) => r.status === 200), 'the steady replica took every request meanwhile');
  } finally {
    await clients.stop();
    await counts.stop();
  }
});
