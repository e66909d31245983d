// A full disk under the state file (R9, R10; SECURITY_RELIABILITY.md 7, case 41): the state
// directory is a 2 MiB tmpfs that the test fills. Operations that must write the state file
// (weight changes, rollback, key creation) are refused with an OpenAI-shaped 503 that says the state
// cannot be written, nothing partial is visible afterwards, every acknowledged operation is
// still there after a restart, and proxied inference keeps answering 200 throughout. Needs
// root for mount(8); skipped with a message otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, modelConfig, postJson, waitFor } from '../lib/harness.mjs';
import { startCaptureUpstream } from '../lib/capture_upstream.mjs';

const dir = mkdtempSync(join(tmpdir(), 'dw-full-'));
const stateDir = join(dir, 'state');
mkdirSync(stateDir);
const mounted = process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2M', 'tmpfs', stateDir], { encoding: 'utf8' }).status === 0;
const skip = mounted ? false : 'needs root and mount(8) for a tmpfs state directory';
if (skip) console.log(`# skipped: ${skip}`);

let upstream;
let gateway;
const config = () => ({
  state_dir: stateDir,
  observe: { scrape_replicas: false },
  // The audit log lives elsewhere, so that the state file is what fails (the audit log's own
  // fail-closed path is the `audit_unavailable` 503, covered by the crash suite's design).
  security: { auth: false, audit: { path: join(dir, 'audit.db'), ecs_path: join(dir, 'audit.ndjson') } },
  models: [modelConfig('capture', [
    { id: 'v1', track: 'stable', weight: 90, replicas: [upstream] },
    { id: 'v2', track: 'canary', weight: 10, replicas: [upstream] },
    { id: 'v0', track: 'standby', weight: 0, replicas: [upstream] },
  ])],
});
before(async () => {
  if (skip) return;
  upstream = await startCaptureUpstream();
  gateway = await startGateway(config());
});
after(async () => {
  await gateway?.stop();
  await upstream?.stop();
  if (mounted) spawnSync('umount', [stateDir]);
  rmSync(dir, { recursive: true, force: true });
});

const admin = async (method, path, body) => {
  const r = await fetch(`${gateway.admin}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
};
const weights = async () => {
  const m = (await admin('GET', '/admin/v1/models')).json.models.find((x) => x.name === 'capture');
  return Object.fromEntries(m.versions.map((v) => [v.id, v.weight]));
};
const infer = () => postJson(`${gateway.url}/v1/chat/completions`, { model: 'capture', messages: [{ role: 'user', content: 'hi' }] });

// Fills the file system under the state directory: a filler file as large as it will get.
function fill() {
  const filler = join(stateDir, 'filler');
  const block = Buffer.alloc(64 * 1024, 1);
  writeFileSync(filler, '');
  for (;;) {
    try {
      writeFileSync(filler, block, { flag: 'a' });
    } catch (e) {
      assert.equal(e.code, 'ENOSPC');
      break;
    }
  }
  for (const size of [4096, 512, 1]) {
    for (;;) {
      try { writeFileSync(filler, Buffer.alloc(size, 1), { flag: 'a' }); } catch { break; }
    }
  }
  return filler;
}

test('with the state file system full, writes are refused cleanly and inference keeps serving', { skip }, async () => {
  assert.equal((await admin('PUT', '/admin/v1/models/capture/weights', { weights: { v1: 80, v2: 20 }, reason: 'before' })).status, 200);
  let acked = { v1: 80, v2: 20, v0: 0 };
  const ackedKeys = [];
  const filler = fill();
  // SQLite may still commit into space its WAL already holds; sooner or later a write needs
  // more. Every answer is either a durable success or a clean refusal.
  let refusedWeights = 0;
  let refusedKeys = 0;
  let served = 0;
  for (let i = 0; i < 60 && (refusedWeights < 3 || refusedKeys < 3); ++i) {
    const w = { v1: 50 + (i % 40), v2: 50 - (i % 40), v0: 0 };
    const r = await admin('PUT', '/admin/v1/models/capture/weights', { weights: w, reason: `full ${i}` });
    if (r.status === 200) {
      acked = w;
    } else {
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.type, 'server_error');
      assert.match(r.json.error.message, /state file cannot be written/);
      ++refusedWeights;
    }
    assert.deepEqual(await weights(), acked, 'a refused change is not visible');
    const k = await admin('POST', '/admin/v1/keys', { name: `full-${i}`, user: 'disk', roles: ['client'], reason: 'full' });
    if (k.status === 200) {
      ackedKeys.push(k.json.id);
    } else {
      assert.equal(k.status, 503, k.text);
      assert.match(k.json.error.message, /disk is full|SQLite/);
      ++refusedKeys;
    }
    // Nothing partial: the keys listed are exactly the acknowledged ones.
    const listed = (await admin('GET', '/admin/v1/keys')).json.keys.map((x) => x.id).sort();
    assert.deepEqual(listed, [...ackedKeys].sort());
    const r2 = await infer();
    assert.equal(r2.status, 200, r2.text);
    ++served;
  }
  // A rollback (the controller's routing switch) is refused the same way, and changes nothing.
  const tracks = async () => (await admin('GET', '/admin/v1/models')).json.models[0].versions.map((v) => `${v.id}:${v.track}:${v.weight}`);
  const before = await tracks();
  const rollback = await admin('POST', '/admin/v1/rollback', { model: 'capture', to: 'v0', reason: 'full' });
  assert.equal(rollback.status, 503, rollback.text);
  assert.match(rollback.json.error.message, /could not be switched/);
  assert.deepEqual(await tracks(), before, 'a refused rollback is not visible');
  // The data plane does not depend on the state file.
  for (let i = 0; i < 20; ++i) {
    const r2 = await infer();
    assert.equal(r2.status, 200, r2.text);
    ++served;
  }
  console.log(`# disk full: ${refusedWeights} weight changes and ${refusedKeys} key creations refused, ${served} inferences served`);
  assert.ok(refusedWeights > 0, 'a weight change was refused');
  assert.ok(refusedKeys > 0, 'a key creation was refused');
  // Space again: operations succeed, and a restart keeps every acknowledged one.
  unlinkSync(filler);
  const r = await admin('PUT', '/admin/v1/models/capture/weights', { weights: { v1: 70, v2: 30 }, reason: 'after' });
  assert.equal(r.status, 200, r.text);
  const back = await admin('POST', '/admin/v1/rollback', { model: 'capture', to: 'v0', reason: 'space again' });
  assert.equal(back.status, 200, back.text);
  acked = { v1: 0, v2: 30, v0: 100 };
  const switched = await tracks();
  await gateway.stop();
  gateway = await startGateway(config());
  assert.deepEqual(await weights(), acked, 'the acknowledged weights survive a restart');
  assert.deepEqual(await tracks(), switched, 'the acknowledged rollback survives a restart');
  const listed = (await admin('GET', '/admin/v1/keys')).json.keys.map((x) => x.id);
  for (const id of ackedKeys) assert.ok(listed.includes(id), `key ${id} survives`);
  assert.equal((await infer()).status, 200);
});
