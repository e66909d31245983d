// R9 / issue 10: a canary outlives the controller that runs it. The same scenario runs on both
// state backends:
//  - sqlite: one gateway is SIGKILLed during a canary and started again on its state directory;
//  - etcd: three gateways share etcd and the leader is SIGKILLed during a canary; another takes
//    over within the lease TTL.
// Asserted: the rollout goes on from the step it had reached, never back to an earlier one, and
// is promoted; the new controller records that it resumed it; on etcd, clients that retry on
// another gateway (as a load balancer does) lose no request, the takeover fits in the TTL, and
// the killed leader's audit chain is whole in etcd (RPO = 0), its deployment entries included.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chat, restartGateway, startGateway, startModel, waitFor, SANITIZED } from '../lib/harness.mjs';
import { etcdRange, haveEtcd, startEtcd } from '../lib/etcd.mjs';

const TTL_S = 4;
const cleanups = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function config({ cluster, v1, v2 }) {
  return {
    observe: { granularity: '1s', windows: ['5s', '1m'], min_samples: 5 },
    upstream: { health_check: { interval: '250ms', timeout: '500ms' } },
    alerting: { default_rules: false },
    control: {
      rollout: { steps: [10, 50, 100], step_interval: '3s', min_requests: 5, p99_ratio: 3, p99_slack: '1s' },
      ...(cluster ? { cluster } : {}),
    },
    models: [{
      name: 'fortune',
      versions: [
        { id: 'v1', track: 'stable', weight: 100, replicas: [{ url: v1.url }] },
        { id: 'v2', track: 'standby', weight: 0, replicas: [{ url: v2.url }] },
      ],
    }],
  };
}

async function getJson(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => null);
  return r && r.status === 200 ? r.json() : null;
}
const rolloutOn = async (g) => (await getJson(`${g.admin}/admin/v1/rollouts`))?.rollouts?.find((r) => r.model === 'fortune');
const eventsOn = async (g) => (await getJson(`${g.admin}/admin/v1/events`))?.events ?? [];

// Steady load over the gateways `live()` returns: a request that cannot reach one gateway is
// retried once on the next, as a load balancer in front of several gateways would.
function startLoad(live, rate = 40) {
  const stats = { ok: 0, failed: 0, retried: 0, errors: [] };
  let stopped = false;
  let n = 0;
  const once = async () => {
    const gateways = live();
    for (let attempt = 0; attempt < 2 && gateways.length; ++attempt) {
      const g = gateways[(n + attempt) % gateways.length];
      const r = await fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chat(`fortune ${n}`, { max_tokens: 4 })), signal: AbortSignal.timeout(SANITIZED ? 30000 : 5000),
      }).catch((e) => e);
      if (r instanceof Error) {
        stats.retried += 1;
        continue;
      }
      await r.text();
      if (r.status === 200) stats.ok += 1;
      else { stats.failed += 1; stats.errors.push(r.status); }
      return;
    }
    stats.failed += 1;
    stats.errors.push('unreachable');
  };
  const timer = setInterval(() => { if (!stopped) { ++n; once(); } }, 1000 / rate);
  return { stats, stop() { stopped = true; clearInterval(timer); } };
}

async function deploy(g) {
  const r = await fetch(`${g.admin}/admin/v1/rollouts`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fortune', version: 'v2', actor: 'test', reason: 'resume test' }),
  });
  assert.equal(r.status, 200, await r.text());
}

// Watches the rollout through `observer()` until it is promoted; returns the percentages seen.
async function followToPromotion(observer, what) {
  const seen = [];
  await waitFor(async () => {
    const r = await rolloutOn(observer());
    if (r?.step != null && seen.at(-1) !== r.step) seen.push(r.step);
    return r?.state === 'promoted' ? r : null;
  }, { timeout: 90000, interval: 100, what });
  return seen;
}

test('sqlite: a gateway killed during a canary resumes it from its step after the restart', async () => {
  const v1 = await startModel(['--version', 'v1']);
  const v2 = await startModel(['--version', 'v2']);
  let gw = await startGateway(config({ v1, v2 }));
  cleanups.push(() => v1.stop(), () => v2.stop(), () => gw.stop());
  const load = startLoad(() => [gw]);
  cleanups.push(() => load.stop());
  await deploy(gw);
  await waitFor(async () => (await rolloutOn(gw))?.step === 50, { timeout: 60000, interval: 50, what: 'the canary at 50%' });
  await gw.stop('SIGKILL');
  gw = await restartGateway(gw);
  // The controller starts with the gateway's first tick.
  const resumed = await waitFor(() => rolloutOn(gw), { timeout: 10000, interval: 50, what: 'the rollout after the restart' });
  assert.equal(resumed.state, 'canary', JSON.stringify(resumed));
  assert.equal(resumed.step, 50, 'the canary goes on at the step it had reached');
  const seen = await followToPromotion(() => gw, 'the resumed canary promoted');
  load.stop();
  assert.ok(seen.every((p) => p >= 50), `never back to an earlier step: ${seen}`);
  const events = await eventsOn(gw);
  // The resumed event's details later carry the result; its reason keeps where it resumed.
  assert.ok(events.some((e) => e.kind === 'rollout_resumed' && e.reason === 'canary rollout resumed from sqlite (canary at 50%)'), JSON.stringify(events.slice(0, 5)));
  const versions = (await getJson(`${gw.admin}/admin/v1/versions`)).versions;
  assert.equal(versions.find((v) => v.version === 'v2').state, 'stable');
  console.log(`# sqlite: canary resumed at 50% after the restart and promoted; steps seen after: ${seen.join(' -> ')}; ${load.stats.ok} requests answered`);
});

test('etcd: the leader killed during a canary, another gateway resumes it from its step',
  { skip: !haveEtcd && 'etcd-server is not installed' }, async () => {
  const etcd = await startEtcd();
  cleanups.push(() => etcd.stop());
  const v1 = await startModel(['--version', 'v1']);
  const v2 = await startModel(['--version', 'v2']);
  cleanups.push(() => v1.stop(), () => v2.stop());
  const gateways = [];
  for (const name of ['gw-a', 'gw-b', 'gw-c']) {
    const cluster = { etcd: etcd.members.map((m) => m.url), name, lease_ttl: `${TTL_S}s`, poll: '100ms' };
    const g = await startGateway(config({ cluster, v1, v2 }));
    g.name = name;
    gateways.push(g);
    cleanups.push(() => g.stop());
  }
  const states = await waitFor(async () => {
    const all = await Promise.all(gateways.map((g) => getJson(`${g.admin}/admin/v1/cluster`)));
    const leading = all.filter((s) => s?.is_leader);
    return leading.length === 1 && all.every((s) => s?.leader === leading[0].name) ? all : null;
  }, { timeout: 15000, interval: 100, what: 'one leader that every gateway names' });
  const leader = gateways[states.findIndex((s) => s.is_leader)];
  const followers = gateways.filter((g) => g !== leader);
  // The load keeps sending to the killed gateway too: its clients retry on another one.
  const load = startLoad(() => gateways);
  cleanups.push(() => load.stop());

  // A follower refuses to start a rollout and names the leader; the leader starts it.
  const refused = await fetch(`${followers[0].admin}/admin/v1/rollouts`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fortune', version: 'v2' }),
  });
  assert.equal(refused.status, 503);
  assert.match(await refused.text(), new RegExp(leader.name));
  await deploy(leader);
  // Followers show the leader's rollout as stored in etcd.
  await waitFor(async () => (await rolloutOn(followers[0]))?.step === 50, { timeout: 60000, interval: 50, what: 'the canary at 50% (seen from a follower)' });

  const killed = Date.now();
  await leader.stop('SIGKILL');
  const next = await waitFor(async () => {
    for (const g of followers) if ((await getJson(`${g.admin}/admin/v1/cluster`))?.is_leader) return g;
    return null;
  }, { timeout: (TTL_S + 5) * 1000, interval: 100, what: 'a new leader' });
  const takeover = (Date.now() - killed) / 1000;
  const resumed = await waitFor(async () => (await eventsOn(next)).find((e) => e.kind === 'rollout_resumed'), { timeout: 10000, interval: 100, what: 'the resumed rollout' });
  const seen = await followToPromotion(() => next, 'the resumed canary promoted');
  const promotedAfter = (Date.now() - killed) / 1000;
  load.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));

  assert.equal(resumed.reason, 'canary rollout resumed from etcd (canary at 50%)', 'resumed at the step it had reached');
  assert.ok(seen.every((p) => p >= 50), `never back to an earlier step: ${seen}`);
  for (const g of followers) {
    const models = await getJson(`${g.admin}/admin/v1/models`);
    const v = Object.fromEntries(models.models[0].versions.map((x) => [x.id, x]));
    assert.equal(v.v2.track, 'stable', `${g.name} routes to the promoted version`);
    assert.equal(v.v2.weight, 100);
  }
  console.log(`# etcd: leader ${leader.name} killed at 50%; ${next.name} led after ${takeover.toFixed(2)} s, resumed the canary (${resumed.reason}) and promoted it ${promotedAfter.toFixed(1)} s after the kill; steps seen after: ${seen.join(' -> ')}; load ${load.stats.ok} ok, ${load.stats.failed} failed, ${load.stats.retried} retried on another gateway`);
  assert.ok(takeover <= TTL_S + 1.5, `takeover within the TTL (${takeover} s)`);

  // The dead leader's audit entries, as the cluster kept them: one chain, contiguous, linked,
  // with the deployment's request and response entries.
  const kept = await etcdRange(etcd.members[0].url, `/deepwatch/audit/${leader.name}/`);
  const entries = kept.map((kv) => JSON.parse(kv.value).deepwatch.audit);
  assert.ok(entries.length >= 2, `audit entries in etcd: ${entries.length}`);
  assert.equal(new Set(kept.map((kv) => kv.key.split('/').at(-2))).size, 1, 'one chain');
  entries.forEach((e, i) => {
    assert.equal(e.seq, i + 1, 'contiguous from the first entry');
    if (i > 0) assert.equal(e.prev_hash, entries[i - 1].entry_hash, `entry ${e.seq} links to ${i}`);
  });
  const deployEntries = kept.map((kv) => JSON.parse(kv.value)).filter((l) => l.event?.action === 'deploy');
  assert.ok(deployEntries.length >= 2, `the deployment's request and response entries: ${JSON.stringify(deployEntries.map((l) => l.event))}`);
  console.log(`# etcd kept ${entries.length} audit entries of the killed leader, chained`);
  assert.equal(load.stats.failed, 0, `no request lost: ${load.stats.errors}`);
});
