// Operating the fleet (R3, R4, R7): `deepwatch ctl` over the admin API, and the autoscaler
// scaling launched replicas up under a load ramp and back down once it ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, startGateway, waitFor } from '../lib/harness.mjs';

// Ports for the launched replicas: below the ephemeral range, apart from controller's.
const base = 22000 + Math.floor(Math.random() * 200) * 50;
let gateway;

const launch = (version, first, replicas) => ({
  command: [BIN, '--log-level', 'warn', 'model', 'serve', '--version', version, '--port', '{port}'],
  ports: `${first}-${first + 9}`,
  replicas,
});

before(async () => {
  gateway = await startGateway({
    observe: { granularity: '1s', windows: ['5s', '1m'], min_samples: 5 },
    upstream: { health_check: { interval: '250ms', timeout: '500ms', unhealthy_threshold: 1 } },
    alerting: { default_rules: false },
    models: [{
      name: 'fortune',
      versions: [
        {
          id: 'v1', track: 'stable', weight: 100, launch: launch('v1', base, 2),
          // A small per-replica target so that a loopback load ramp crosses it.
          autoscale: { enabled: true, min: 2, max: 4, target_qps: 20, headroom: 0.3, interval: '1s', scale_down_stabilization: '5s' },
        },
        { id: 'v2', track: 'standby', weight: 0, launch: launch('v2', base + 10, 1) },
      ],
    }],
  }, { ready: false });
  await waitFor(async () => {
    const v = await versions();
    return v.length === 2 && v.every((x) => x.replicas?.length && x.replicas.every((r) => r.healthy));
  }, { timeout: 60000, interval: 250, what: 'replicas up' });
});
after(async () => {
  await gateway?.stop();
  for (let port = base; port < base + 20; ++port) spawnSync('pkill', ['-f', '--', `--port ${port}$`]);
});

async function versions() {
  const r = await fetch(`${gateway.admin}/admin/v1/versions`).catch(() => null);
  return r && r.status === 200 ? (await r.json()).versions : [];
}
const find = async (version) => (await versions()).find((v) => v.version === version);
const ctl = (...args) => spawnSync(BIN, ['ctl', '--admin', gateway.admin, ...args], { encoding: 'utf8' });

test('ctl lists versions, and every change needs a reason', () => {
  const listed = ctl('versions');
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /^fortune\s+v1\s+stable\s+stable\s+100\b.*2\/2 healthy$/m);
  assert.match(listed.stdout, /^fortune\s+v2\s+standby\s+standby\b/m);
  const unexplained = ctl('deploy', 'fortune', 'v2');
  assert.notEqual(unexplained.status, 0);
  assert.match(unexplained.stderr, /--reason is required/);
});

test('ctl tune changes a threshold at run time and rejects a bad one', async () => {
  const tuned = ctl('tune', 'rollout.p99_ratio=1.5', 'recovery.recent_probes=40', '--reason', 'noisy canaries', '--actor', 'alice');
  assert.equal(tuned.status, 0, tuned.stderr);
  const settings = JSON.parse(ctl('tune').stdout);
  assert.equal(settings.rollout.p99_ratio, 1.5);
  assert.equal(settings.recovery.recent_probes, 40);
  const bad = ctl('tune', 'rollout.p99_ratio=fast', '--reason', 'typo');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /HTTP 400: 'p99_ratio' must be a number/);
  const unknown = ctl('tune', 'rollout.p99=2', '--reason', 'typo');
  assert.match(unknown.stderr, /unknown rollout setting 'p99'/);
  const events = JSON.parse(ctl('--json', 'events').stdout).events;
  const change = events.find((e) => e.kind === 'settings');
  assert.equal(change.actor, 'alice');
  assert.equal(change.reason, 'noisy canaries');
});

test('ctl deploy --mode direct switches, ctl rollback switches back', async () => {
  const deployed = ctl('deploy', 'fortune', 'v2', '--mode', 'direct', '--reason', 'hot update', '--actor', 'bob');
  assert.equal(deployed.status, 0, deployed.stderr);
  await waitFor(async () => (await find('v2')).state === 'stable', { timeout: 30000, interval: 200, what: 'v2 stable' });
  assert.equal((await find('v1')).state, 'standby');
  const rolled = ctl('rollback', 'fortune', '--reason', 'customer reports', '--actor', 'bob');
  assert.equal(rolled.status, 0, rolled.stderr);
  assert.deepEqual(JSON.parse(rolled.stdout), { from: 'v2', to: 'v1' });
  assert.equal((await find('v1')).state, 'stable');
  assert.equal((await find('v1')).weight, 100);
  const nothing = ctl('rollback', 'fortune', '--to', 'v9', '--reason', 'typo');
  assert.notEqual(nothing.status, 0);
  assert.match(nothing.stderr, /cannot roll back to 'v9'/);
});

test('ctl weights and ctl scale act on the routing and the supervisor', async () => {
  const weighted = ctl('weights', 'fortune', 'v1=100', 'v2=0', '--reason', 'reset');
  assert.equal(weighted.status, 0, weighted.stderr);
  const badWeight = ctl('weights', 'fortune', 'v1=lots', '--reason', 'typo');
  assert.equal(badWeight.status, 2);
  const scaled = ctl('scale', 'fortune', 'v2', '2', '--reason', 'warm standby');
  assert.equal(scaled.status, 0, scaled.stderr);
  await waitFor(async () => { const v = await find('v2'); return v.replicas.length === 2 && v.replicas.every((r) => r.healthy); }, { timeout: 30000, interval: 200, what: 'two v2 replicas' });
});

test('a load ramp scales replicas up, and they scale back down after it', async () => {
  // 60 req/s over 2 replicas is 30 each against 20 x (1 - 0.3) = 14: ceil(2 x 30 / 14) = 5,
  // clamped to the max of 4.
  const load = spawn(BIN, ['load', '--url', `${gateway.url}/v1/chat/completions`, '--rate', '60', '--duration', '60s'], { stdio: 'ignore' });
  try {
    const started = Date.now();
    await waitFor(async () => (await find('v1')).replicas.length === 4, { timeout: 30000, interval: 250, what: 'four v1 replicas' });
    console.log(`# scaled up to 4 replicas ${(Date.now() - started) / 1000} s into the ramp`);
    await waitFor(async () => (await find('v1')).replicas.every((r) => r.healthy), { timeout: 30000, interval: 250, what: 'the new replicas healthy' });
  } finally {
    load.kill('SIGINT');
  }
  const stopped = Date.now();
  await waitFor(async () => (await find('v1')).replicas.length === 2, { timeout: 40000, interval: 250, what: 'back to two v1 replicas' });
  const seconds = (Date.now() - stopped) / 1000;
  console.log(`# scaled back down to 2 replicas ${seconds} s after the load ended`);
  assert.ok(seconds >= 5, 'the scale-down waited for its stabilization window');
  const events = JSON.parse(ctl('--json', 'events').stdout).events.filter((e) => e.kind === 'scale' && e.actor === 'autoscaler');
  assert.ok(events.some((e) => e.details.to === 4), JSON.stringify(events));
  assert.equal(events[0].details.to, 2, JSON.stringify(events));  // Newest first.
  assert.ok(events[0].details.from > 2);
});
