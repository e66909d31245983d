// R8 under crashes: the gateway is SIGKILLed at random moments while it performs audited
// operations (weight changes over the admin API), 200 times. Every operation the API
// acknowledged must have its audit entry, the chain must verify after every restart, and the
// gateway must come back serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, waitFor } from '../lib/harness.mjs';

const ROUNDS = Number(process.env.DW_AUDIT_CRASH_ROUNDS ?? 200);

test(`${ROUNDS} SIGKILLs during audited operations lose no acknowledged entry`, { timeout: 300000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-audit-crash-'));
  const config = join(dir, 'deepwatch.yaml');
  writeFileSync(config, JSON.stringify({
    listeners: { api: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    state_dir: join(dir, 'state'),
    security: { auth: false },
    control: { enabled: false },
    models: [{ name: 'fortune', versions: [
      { id: 'v1', track: 'stable', weight: 90, replicas: [{ url: 'http://127.0.0.1:9' }] },
      { id: 'v2', track: 'canary', weight: 10, replicas: [{ url: 'http://127.0.0.1:9' }] },
    ] }],
  }));
  const db = join(dir, 'state', 'audit.db');
  let acknowledged = 0;
  const acked = [];
  let killedWithAcks = 0;
  for (let round = 0; round < ROUNDS; ++round) {
    const portFile = join(dir, `admin-port-${round}`);
    const child = spawn(BIN, ['--log-level', 'error', 'serve', '-c', config, '--admin-port-file', portFile], { stdio: 'ignore' });
    const exited = new Promise((resolve, reject) => {
      child.once('exit', resolve);
      child.once('error', reject);
    });
    const port = await waitFor(() => (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0), { timeout: 10000, what: 'the admin port' });
    let alive = true;
    const killAfter = 5 + Math.random() * 60;
    const killer = sleep(killAfter).then(() => { alive = false; child.kill('SIGKILL'); });
    let acks = 0;
    for (let op = 0; alive; ++op) {
      const weight = 1 + Math.floor(Math.random() * 98);
      const reason = `round ${round} op ${op}`;
      // A request cut by the kill can leave undici's promise pending with no handle alive: a
      // referenced timer aborts it, so the round always ends.
      const abort = new AbortController();
      const guard = setTimeout(() => abort.abort(), 2000);
      const r = await fetch(`http://127.0.0.1:${port}/admin/v1/models/fortune/weights`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ weights: { v1: 100 - weight, v2: weight }, reason }),
        signal: abort.signal,
      }).catch(() => null);
      clearTimeout(guard);
      if (r?.status === 200) {
        ++acks;
        acked.push(reason);
      }
      if (r) await r.text().catch(() => '');
    }
    await killer;
    await exited;
    acknowledged += acks;
    if (acks > 0) ++killedWithAcks;
    rmSync(portFile, { force: true });
    // After every crash the chain verifies (a writer's open repairs nothing silently: verify
    // reads the file as the crash left it).
    const verify = spawnSync(BIN, ['audit', 'verify', '--db', db], { encoding: 'utf8' });
    assert.equal(verify.status, 0, `round ${round}: ${verify.stdout}${verify.stderr}`);
  }
  const list = spawnSync(BIN, ['audit', 'list', '--db', db, '--operation', 'weights', '--json', '--limit', '0'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(list.status, 0, list.stderr);
  const entries = JSON.parse(list.stdout);
  const requested = new Set(entries.filter((e) => e.details?.stage === 'request').map((e) => e.reason));
  const lost = acked.filter((reason) => !requested.has(reason));
  console.log(`# ${ROUNDS} kills (${killedWithAcks} after at least one acknowledged change): ${acknowledged} acknowledged, ${entries.length} weight entries, ${lost.length} lost`);
  assert.deepEqual(lost, []);
  assert.ok(acknowledged > 0);
  // The gateway comes back and serves its admin API.
  const portFile = join(dir, 'admin-port-final');
  const child = spawn(BIN, ['--log-level', 'error', 'serve', '-c', config, '--admin-port-file', portFile], { stdio: 'ignore' });
  const port = await waitFor(() => (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0), { timeout: 10000, what: 'the admin port' });
  assert.equal((await fetch(`http://127.0.0.1:${port}/admin/v1/models`)).status, 200);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
});
