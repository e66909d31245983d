// The audit log through `deepwatch audit` (R8): append, list, export as ECS NDJSON, verify, a
// tampered database named by verify, and the crash test: a driver appending in a loop is
// SIGKILLed at random moments, and after every kill each entry it acknowledged is present and
// the chain verifies (SECURITY_RELIABILITY.md, AUD row 40, kill -9 part).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../lib/harness.mjs';

const ROUNDS = Number(process.env.DW_AUDIT_CRASH_ROUNDS ?? 200);

function tempDir() {
  return mkdtempSync(join(tmpdir(), 'dw-audit-'));
}

function audit(args) {
  const result = spawnSync(BIN, ['--log-level', 'warn', 'audit', ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function append(db, extra = []) {
  return audit(['append', '--db', db, '--actor', 'alice', '--operation', 'deploy', '--target',
    'chat/v2', '--reason', 'test', ...extra]);
}

test('append, list, export and verify', () => {
  const dir = tempDir();
  try {
    const db = join(dir, 'audit.db');
    const ndjson = join(dir, 'audit.ndjson');
    let r = append(db, ['--count', '3', '--ndjson', ndjson, '--source-ip', '10.0.0.9',
      '--version-before', 'v1', '--version-after', 'v2', '--details', '{"weight":10}']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1', '2', '3']);
    r = audit(['append', '--db', db, '--actor', 'ctl', '--actor-kind', 'controller',
      '--operation', 'rollback', '--target', 'chat/v2', '--ndjson', ndjson]);
    assert.equal(r.code, 0, r.stderr);

    r = audit(['verify', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 4 entries, head [0-9a-f]{64}\n$/);

    r = audit(['list', '--db', db, '--operation', 'rollback', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].seq, 4);
    assert.equal(listed[0].actor_kind, 'controller');

    const live = readFileSync(ndjson, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(live.length, 4);
    assert.equal(live[0].event.action, 'deploy');
    assert.equal(live[0].source.ip, '10.0.0.9');
    assert.equal(live[3].event.sequence, 4);

    const out = join(dir, 'export.ndjson');
    r = audit(['export', '--db', db, '--from', '2000-01-01', '--to', '2999-01-01T00:00:00Z', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(ndjson, 'utf8'));
    r = audit(['export', '--db', db, '--to', '2000-01-01']);
    assert.equal(r.stdout, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify names the first tampered entry and exits 1', () => {
  const dir = tempDir();
  try {
    const db = join(dir, 'audit.db');
    assert.equal(append(db, ['--count', '5']).code, 0);
    const sql = spawnSync('sqlite3', [db, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 3"]);
    if (sql.error) return; // No sqlite3 shell: the unit tests cover the tamper kinds.
    const r = audit(['verify', '--db', db]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^bad: entry 3 changed/);
    const json = JSON.parse(audit(['verify', '--db', db, '--json']).stdout);
    assert.equal(json.bad_seq, 3);
    assert.equal(json.kind, 'changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Runs the driver until 0-25 ms after its first acknowledgement, SIGKILLs it, and returns the seqs it
// printed (each printed only after append() returned).
function killedDriver(db) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['--log-level', 'warn', 'audit', 'append', '--db', db, '--actor',
      'crash', '--operation', 'tune', '--target', 'chat/v2', '--reason', 'crash test',
      '--count', '1000000000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // The kill is timed from the first acknowledgement, not from the start: on a loaded machine
    // the process may take longer than the window just to start.
    let timer = null;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      timer ??= setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 26));
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    const fallback = setTimeout(() => child.kill('SIGKILL'), 5000);
    // 'close' waits for the pipes to drain, so every line the driver wrote is read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(fallback);
      const seqs = stdout.split('\n').filter((line) => line !== '').map(Number);
      resolve({ seqs, code, signal, stderr });
    });
  });
}

test(`every acknowledged entry survives SIGKILL (${ROUNDS} rounds)`, { timeout: 120000 }, async () => {
  const dir = tempDir();
  const started = Date.now();
  try {
    const db = join(dir, 'audit.db');
    let acknowledged = 0;
    let killedMidRun = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const { seqs, code, signal, stderr } = await killedDriver(db);
      assert.ok(signal === 'SIGKILL' || code === 0, `round ${round}: driver failed: ${stderr}`);
      if (seqs.length > 0) killedMidRun += 1;
      // Seqs continue the log without gaps: each round starts after what is already durable.
      if (seqs.length > 0) assert.ok(seqs[0] > acknowledged, `round ${round}: seq ${seqs[0]} reused`);
      for (let i = 1; i < seqs.length; i += 1) assert.equal(seqs[i], seqs[i - 1] + 1);
      if (seqs.length > 0) acknowledged = seqs[seqs.length - 1];
      const r = audit(['verify', '--db', db, '--json']);
      assert.equal(r.code, 0, `round ${round}: ${r.stdout}${r.stderr}`);
      const result = JSON.parse(r.stdout);
      assert.ok(result.count >= acknowledged,
        `round ${round}: ${acknowledged} acknowledged, ${result.count} present`);
      acknowledged = result.count;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`audit crash test: ${ROUNDS} kills, ${acknowledged} entries, ` +
      `${killedMidRun} rounds killed after acknowledging, ${seconds.toFixed(1)} s`);
    assert.ok(killedMidRun > ROUNDS / 4, 'most kills should land while appending');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
