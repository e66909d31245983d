// R9 zones: a gateway of zone a sends everything to zone a's replica while it is usable; when
// zone a is cut off (its replica stopped with SIGSTOP: connections hang, as in a network
// partition), the traffic moves to zone b within R5's budget, and comes back when the zone does.
// The move is measured and printed; the budget asserted is the detection budget of R5 (30 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startModel, startGateway, postJson, waitFor, metricValue } from '../lib/harness.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let a;
let b;
let gateway;

before(async () => {
  a = await startModel(['--version', 'v1']);
  b = await startModel(['--version', 'v1']);
  gateway = await startGateway({
    zone: 'a',
    upstream: {
      timeouts: { first_byte: '1s' },
      health_check: { interval: '250ms', timeout: '300ms', unhealthy_threshold: 1, healthy_threshold: 1 },
    },
    models: [{
      name: 'fortune',
      versions: [{ id: 'v1', replicas: [{ url: b.url, zone: 'b' }, { url: a.url, zone: 'a' }] }],
    }],
  });
});
after(async () => {
  try { process.kill(a.child.pid, 'SIGCONT'); } catch { /* gone */ }
  await gateway?.stop();
  await a?.stop();
  await b?.stop();
});

async function served(replica) {
  const text = await (await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('vllm:request_success_total')) total += Number(line.split(' ').pop());
  }
  return total;
}

const ask = () => postJson(`${gateway.url}/v1/chat/completions`, { model: 'fortune', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 });

test('the local zone takes the traffic, a partitioned zone fails over to the other and back', async () => {
  const models = await (await fetch(`${gateway.admin}/admin/v1/models`)).json();
  const replicas = models.models[0].versions[0].replicas;
  assert.deepEqual(replicas.map((r) => [r.zone, r.local]), [['a', true], ['b', false]]);

  for (let i = 0; i < 40; ++i) assert.equal((await ask()).status, 200);
  assert.equal(await served(b), 0, 'nothing crossed zones while zone a was up');
  assert.ok(await served(a) >= 40);

  // Steady load from 4 clients while zone a is cut off.
  let running = true;
  const results = [];
  const clients = [0, 1, 2, 3].map(async () => {
    while (running) {
      const r = await ask().catch(() => ({ status: 0 }));
      results.push({ at: Date.now(), status: r.status });
      await sleep(20);
    }
  });
  await sleep(500);
  const cut = Date.now();
  process.kill(a.child.pid, 'SIGSTOP');
  const before = await served(b);
  const moved = await waitFor(async () => ((await served(b)) > before + 20 ? Date.now() : null),
    { timeout: 30000, interval: 100, what: 'zone b to take the traffic' });
  const failover_s = (moved - cut) / 1000;
  await sleep(1500);
  const failedDuring = results.filter((r) => r.at >= cut && r.status !== 200).length;
  const okAfter = results.filter((r) => r.at >= moved + 1000);
  process.kill(a.child.pid, 'SIGCONT');
  const back = Date.now();
  const aBefore = await served(a);
  await waitFor(async () => ((await served(a)) > aBefore + 20 ? true : null),
    { timeout: 30000, interval: 100, what: 'zone a to take the traffic back' });
  const back_s = (Date.now() - back) / 1000;
  running = false;
  await Promise.all(clients);

  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  const crossed = metricValue(metrics, 'deepseek_cross_zone_requests_total{model="fortune",zone="a"}');
  console.log(`# zone a cut: traffic on zone b after ${failover_s.toFixed(2)} s, ${failedDuring} requests failed meanwhile; back on zone a ${back_s.toFixed(2)} s after it returned; ${crossed} tries crossed zones`);
  assert.ok(failover_s < 30, `R5: detected and moved within 30 s (${failover_s} s)`);
  assert.ok(okAfter.length > 0 && okAfter.every((r) => r.status === 200), 'every request after the move succeeded');
  assert.ok(crossed > 20);
});
