// A three-member etcd cluster on loopback (Debian's etcd-server) for the multi-gateway suites
// (R9, issue 10): fresh data directories, OS-chosen ports, a 1 s election timeout.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './harness.mjs';

export const ETCD = '/usr/bin/etcd';
export const haveEtcd = existsSync(ETCD);

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Resolves to {members: [{name, url, child}], stop()} once every member answers /health.
export async function startEtcd(count = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-etcd-'));
  const specs = [];
  for (let i = 0; i < count; ++i) specs.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initial = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const members = specs.map((s) => ({
    ...s,
    url: `http://127.0.0.1:${s.client}`,
    child: spawn(ETCD, [
      '--name', s.name, '--data-dir', join(dir, s.name),
      '--listen-client-urls', `http://127.0.0.1:${s.client}`, '--advertise-client-urls', `http://127.0.0.1:${s.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${s.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${s.peer}`,
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'dw-test',
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--log-level', 'error',
    ], { stdio: 'ignore' }),
  }));
  for (const m of members) {
    await waitFor(async () => (await fetch(`${m.url}/health`).catch(() => null))?.status === 200, { timeout: 20000, what: `etcd ${m.name}` });
  }
  return {
    members,
    stop() {
      for (const m of members) m.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Every key and value under `prefix`, in key order, through etcd's JSON gateway.
export async function etcdRange(url, prefix) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const end = Buffer.from(prefix);
  end[end.length - 1] += 1;
  const r = await fetch(`${url}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: end.toString('base64') }),
  });
  const body = await r.json();
  return (body.kvs ?? []).map((kv) => ({
    key: Buffer.from(kv.key, 'base64').toString(),
    value: Buffer.from(kv.value ?? '', 'base64').toString(),
  }));
}
