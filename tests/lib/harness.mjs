// Test harness: starts deepwatch processes on OS-chosen loopback ports (port 0 plus a port file)
// and stops them, so that integration and e2e suites run real binaries side by side.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BIN = process.env.DEEPWATCH_BIN ?? new URL('../../build/src/deepwatch', import.meta.url).pathname;
// True when the suites run against a sanitizer build (scripts/sanitized-ctest sets these): code
// runs 5-20x slower and memory figures include the sanitizer's shadow memory, so a suite widens
// its time limits and skips its RSS bounds there.
export const SANITIZED = Boolean(process.env.TSAN_OPTIONS || process.env.ASAN_OPTIONS);

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// Polls `check` every `interval` ms until it returns a truthy value or `timeout` ms pass.
export async function waitFor(check, { timeout = 20000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

// A running deepwatch process with the port it bound.
export class Proc {
  constructor(child, port, dir) {
    this.child = child;
    this.port = port;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  // Sends SIGTERM and waits for the exit; returns {code, signal}.
  async stop(signal = 'SIGTERM') {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const result = await this.exited;
    live.delete(this.child);
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }

  kill() {
    return this.stop('SIGKILL');
  }

  get stderr() {
    return this.child.stderrText;
  }
}

// Starts `deepwatch <args...> --port 0 --port-file F` and resolves once the port is known.
export async function startProcess(args, { portFlag = '--port', portFile = null, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-test-'));
  portFile ??= join(dir, 'port');
  const portArgs = portFlag ? [portFlag, '0'] : [];
  const child = spawn(BIN, [...args, ...portArgs, '--port-file', portFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  live.add(child);
  child.stderrText = '';
  child.stderr.on('data', (chunk) => {
    child.stderrText += chunk;
  });
  const port = await waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`deepwatch ${args.join(' ')} exited early: ${child.stderrText}`);
      }
      return existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0;
    },
    { what: 'the port file' },
  );
  return new Proc(child, port, dir);
}

// Starts a reference model replica; waits for /health 200 unless `ready` is false.
export async function startModel(args = [], { ready = true } = {}) {
  const proc = await startProcess(['--log-level', 'warn', 'model', 'serve', ...args]);
  if (ready) {
    await waitFor(async () => (await fetch(`${proc.url}/health`).catch(() => null))?.status === 200, {
      what: 'model /health',
    });
  }
  return proc;
}

export async function postJson(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (an SSE stream, say); the caller reads `text`.
  }
  return { status: response.status, headers: response.headers, text, json };
}

// Parses an SSE body into the `data:` payloads, in order.
export function sseData(text) {
  return text
    .split(/\r?\n\r?\n/)
    .filter((event) => event.trim() !== '')
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n'),
    );
}

export function chat(content, extra = {}) {
  return { model: 'fortune', messages: [{ role: 'user', content }], ...extra };
}

// Writes `config` (an object; JSON is YAML) to a file and starts `deepwatch serve` on it with
// OS-chosen API and admin ports. Resolves once /readyz answers 200 (unless `ready` is false).
export async function startGateway(config, { ready = true, logLevel = process.env.DW_LOG ?? 'warn' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dw-gw-'));
  const file = join(dir, 'deepwatch.yaml');
  const full = {
    listeners: { api: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    state_dir: join(dir, 'state'),
    // Suites about other things run without keys; the security suites turn authentication on.
    security: { auth: false },
    ...config,
  };
  writeFileSync(file, typeof config === 'string' ? withoutAuth(config) : JSON.stringify(full, null, 2));
  return serveConfig(file, dir, { ready, logLevel });
}

// Starts `deepwatch serve` again on a gateway's configuration and state, after it was stopped or
// killed (its ports are new when the configuration asks for port 0).
export function restartGateway(gateway, options = {}) {
  return serveConfig(gateway.configFile, gateway.configDir, options);
}

async function serveConfig(file, dir, { ready = true, logLevel = process.env.DW_LOG ?? 'warn' } = {}) {
  const adminPortFile = join(dir, 'admin-port');
  rmSync(adminPortFile, { force: true });
  rmSync(join(dir, 'api-port'), { force: true });
  const proc = await startProcess(['--log-level', logLevel, 'serve', '-c', file, '--admin-port-file', adminPortFile], {
    portFlag: null,
    portFile: join(dir, 'api-port'),
  });
  const adminPort = await waitFor(
    () => (existsSync(adminPortFile) ? Number(readFileSync(adminPortFile, 'utf8').trim()) : 0),
    { what: 'the admin port file' },
  );
  proc.admin = `http://127.0.0.1:${adminPort}`;
  proc.configFile = file;
  proc.configDir = dir;
  if (ready) {
    await waitFor(async () => (await fetch(`${proc.admin}/readyz`).catch(() => null))?.status === 200, {
      what: 'gateway /readyz',
    });
  }
  return proc;
}

// Rewrites a running gateway's configuration file (for reload tests).
export function rewriteConfig(gateway, config) {
  const full = {
    listeners: { api: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    state_dir: join(gateway.configDir, 'state'),
    security: { auth: false },
    ...config,
  };
  writeFileSync(gateway.configFile, typeof config === 'string' ? withoutAuth(config) : JSON.stringify(full, null, 2));
}

// A YAML configuration without a security section gets one that turns authentication off.
function withoutAuth(yaml) {
  return /^security:/m.test(yaml) ? yaml : `${yaml}\nsecurity: {auth: false}\n`;
}

// A model entry for a gateway config: versions given as [{id, track, weight, replicas: [proc]}].
export function modelConfig(name, versions, extra = {}) {
  return {
    name,
    ...extra,
    versions: versions.map(({ replicas, ...v }) => ({
      ...v,
      replicas: replicas.map((r) => ({ url: typeof r === 'string' ? r : r.url })),
    })),
  };
}

// Runs `fn(i)` for i in [0, total) with at most `concurrency` in flight; returns the results.
export async function pool(total, concurrency, fn) {
  const results = new Array(total);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const i = next++;
      results[i] = await fn(i);
    }
  });
  await Promise.all(workers);
  return results;
}

// Reads one sample of a Prometheus text exposition (first match of the name and label text).
export function metricValue(text, nameWithLabels) {
  for (const line of text.split('\n')) {
    if (line.startsWith(nameWithLabels + ' ')) return Number(line.slice(nameWithLabels.length + 1));
  }
  return undefined;
}
