// The crash loop behind audit_crash.test.mjs (200 rounds) and audit_crash.slow.test.mjs (1000):
// a gateway is SIGKILLed at random moments while it performs audited operations that change
// its SQLite state (weight changes and key creations over the admin API), then started again.
// After every kill: the audit chain verifies, both SQLite files pass PRAGMA integrity_check,
// every acknowledged operation is there (its audit entry, its key, its weights: the routing
// after a restart is the last acknowledged one, or the one in flight at the kill), and the
// gateway comes back serving.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, waitFor } from './harness.mjs';

// One admin call that a SIGKILL may cut: resolves {status, json} or null.
async function call(port, method, path, body) {
  // A request cut by the kill can leave undici's promise pending with no handle alive: a
  // referenced timer aborts it, so the round always ends.
  const abort = new AbortController();
  const guard = setTimeout(() => abort.abort(), 2000);
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal,
    });
    const text = await r.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON.
    }
    return { status: r.status, json };
  } catch {
    return null;
  } finally {
    clearTimeout(guard);
  }
}

function integrityCheck(file) {
  const r = spawnSync('sqlite3', [file, 'PRAGMA integrity_check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3 ${file}: ${r.stderr}`);
  return r.stdout.trim();
}

const weightsOf = (models) => {
  const fortune = models.find((m) => m.name === 'fortune');
  return Object.fromEntries(fortune.versions.map((v) => [v.id, v.weight]));
};

export async function runCrashLoop(rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-crash-'));
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
  const auditDb = join(dir, 'state', 'audit.db');
  const stateDb = join(dir, 'state', 'deepwatch.db');
  const acked = [];         // Reasons of acknowledged weight changes.
  const ackedKeys = [];     // Ids of acknowledged keys.
  let lastAcked = { v1: 90, v2: 10 };
  let inFlight = null;      // The weights of an operation the kill may have cut.
  let killedWithAcks = 0;
  let restoredChecks = 0;

  const start = async (round) => {
    const portFile = join(dir, `admin-port-${round}`);
    const child = spawn(BIN, ['--log-level', 'error', 'serve', '-c', config, '--admin-port-file', portFile], { stdio: 'ignore' });
    const exited = new Promise((resolve, reject) => {
      child.once('exit', resolve);
      child.once('error', reject);
    });
    const port = await waitFor(() => (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0), { timeout: 10000, what: 'the admin port' });
    return { child, exited, port, portFile };
  };

  for (let round = 0; round < rounds; ++round) {
    const { child, exited, port, portFile } = await start(round);
    // What the previous rounds acknowledged is all there once the gateway is back.
    const models = await call(port, 'GET', '/admin/v1/models');
    if (models?.status === 200) {
      const weights = weightsOf(models.json.models ?? models.json);
      const candidates = [lastAcked, inFlight].filter(Boolean);
      if (!candidates.some((c) => c.v1 === weights.v1 && c.v2 === weights.v2)) {
        child.kill('SIGKILL'); // A live child would keep the test runner waiting.
        assert.fail(`round ${round}: weights ${JSON.stringify(weights)} after the restart, acknowledged ${JSON.stringify(lastAcked)}`);
      }
      lastAcked = weights;
      ++restoredChecks;
    }
    inFlight = null;
    let alive = true;
    const killer = sleep(5 + Math.random() * 60).then(() => {
      alive = false;
      child.kill('SIGKILL');
    });
    let acks = 0;
    for (let op = 0; alive; ++op) {
      const reason = `round ${round} op ${op}`;
      if (Math.random() < 0.3) {
        const r = await call(port, 'POST', '/admin/v1/keys', { name: `k-${round}-${op}`, user: 'crash', roles: ['client'], reason });
        if (r?.status === 200) {
          ++acks;
          ackedKeys.push(r.json.id);
        }
        continue;
      }
      const weight = 1 + Math.floor(Math.random() * 98);
      inFlight = { v1: 100 - weight, v2: weight };
      const r = await call(port, 'PUT', '/admin/v1/models/fortune/weights', { weights: inFlight, reason });
      if (r?.status === 200) {
        ++acks;
        acked.push(reason);
        lastAcked = inFlight;
        inFlight = null;
      }
    }
    await killer;
    await exited;
    if (acks > 0) ++killedWithAcks;
    rmSync(portFile, { force: true });
    // After every crash the chain verifies and the files are sound, as the crash left them.
    const verify = spawnSync(BIN, ['audit', 'verify', '--db', auditDb], { encoding: 'utf8' });
    assert.equal(verify.status, 0, `round ${round}: ${verify.stdout}${verify.stderr}`);
    if (existsSync(stateDb)) assert.equal(integrityCheck(stateDb), 'ok', `round ${round}: deepwatch.db`);
    assert.equal(integrityCheck(auditDb), 'ok', `round ${round}: audit.db`);
  }
  const list = spawnSync(BIN, ['audit', 'list', '--db', auditDb, '--operation', 'weights', '--json', '--limit', '0'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(list.status, 0, list.stderr);
  const entries = JSON.parse(list.stdout);
  const requested = new Set(entries.filter((e) => e.details?.stage === 'request').map((e) => e.reason));
  const lost = acked.filter((reason) => !requested.has(reason));
  // The gateway comes back, serves its admin API and knows every acknowledged key.
  const { child, port } = await start('final');
  let known;
  try {
    assert.equal((await call(port, 'GET', '/admin/v1/models'))?.status, 200);
    const keys = await call(port, 'GET', '/admin/v1/keys');
    assert.equal(keys?.status, 200);
    known = new Set(keys.json.keys.map((k) => k.id));
  } finally {
    // Even when an assertion fails: a live child would keep the test runner waiting.
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const lostKeys = ackedKeys.filter((id) => !known.has(id));
  console.log(`# ${rounds} kills (${killedWithAcks} after at least one acknowledged operation): ` +
    `${acked.length} weight changes and ${ackedKeys.length} keys acknowledged, ${lost.length + lostKeys.length} lost; ` +
    `weights checked after ${restoredChecks} restarts`);
  assert.deepEqual(lost, []);
  assert.deepEqual(lostKeys, []);
  assert.ok(acked.length > 0 && ackedKeys.length > 0);
  rmSync(dir, { recursive: true, force: true });
}
