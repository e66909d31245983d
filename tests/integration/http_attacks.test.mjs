// HTTP attacks on the API listener (R10; SECURITY_RELIABILITY.md 7, cases 1-13): every
// smuggling and framing case of the catalog is refused with 400 (or 413/414/431/501), the
// connection is closed and the upstream, a capture server that records every byte, sees no
// request; slowloris, slow POST and slow readers are cut at the configured timeouts; a
// connection flood is held at limits.max_connections; and a well-behaved client keeps being
// served while each attack runs (its latency is printed, not asserted: timing on a shared
// machine is noise).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, modelConfig, waitFor, metricValue } from '../lib/harness.mjs';
import { startCaptureUpstream } from '../lib/capture_upstream.mjs';

const HEADER_TIMEOUT_MS = 2000;
const SEND_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 300;

let upstream;
let gateway;
before(async () => {
  upstream = await startCaptureUpstream();
  gateway = await startGateway({
    workers: 2,
    limits: {
      max_header_bytes: '60KiB',
      max_header_count: 100,
      max_request_line_bytes: '8KiB',
      max_body_bytes: '64KiB',
      max_connections: MAX_CONNECTIONS,
      header_timeout: `${HEADER_TIMEOUT_MS}ms`,
      idle_timeout: '30s',
      send_timeout: `${SEND_TIMEOUT_MS}ms`,
    },
    observe: { scrape_replicas: false },
    upstream: { health_check: { interval: '1s' } },
    models: [modelConfig('capture', [{ id: 'v1', weight: 1, replicas: [upstream] }])],
  });
});
after(async () => {
  await gateway?.stop();
  await upstream?.stop();
});

const BODY = JSON.stringify({ model: 'capture', messages: [{ role: 'user', content: 'hi' }] });
const LEN = Buffer.byteLength(BODY);
const POST = 'POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n';

// Sends `bytes` on a fresh connection without half-closing it and resolves with what came back
// and whether the server closed the connection (within `timeout` ms) on its own.
function exchange(bytes, { timeout = 5000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(gateway.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), timeout);
    socket.on('data', (d) => (received = Buffer.concat([received, d])));
    socket.on('end', () => {
      closedByServer = true;
      socket.destroy();
    });
    socket.on('error', () => {
      closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: received.toString('latin1'), closedByServer });
    });
    socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
  });
}

const statusOf = (text) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
const responsesIn = (text) => (text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length;

// The catalog, case by case: [id, request bytes, acceptable statuses].
const chunk = (s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const SMUGGLED = 'GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n';
const REFUSED = [
  // 1. Content-Length with Transfer-Encoding, both orders, with a pipelined request behind.
  ['cl-te', `${POST}Content-Length: ${LEN}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n${SMUGGLED}`, [400]],
  ['te-cl', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(BODY)}0\r\n\r\n${SMUGGLED}`, [400]],
  ['cl-te-zero', `${POST}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400]],
  // 2. Duplicate or differing Content-Length.
  ['cl-duplicate-differing', `${POST}Content-Length: ${LEN}\r\nContent-Length: ${LEN + 1}\r\n\r\n${BODY}`, [400]],
  ['cl-list-differing', `${POST}Content-Length: ${LEN}, ${LEN + 1}\r\n\r\n${BODY}`, [400]],
  ['cl-valid-and-garbage', `${POST}Content-Length: ${LEN}\r\nContent-Length: abc\r\n\r\n${BODY}`, [400]],
  // 3. Malformed Content-Length.
  ...['+' + LEN, '-1', '-0', '0x' + LEN.toString(16), '1_0', `${LEN} ${LEN}`, '18446744073709551617', '', `${LEN}.0`, `${LEN}abc`].map(
    (v) => [`cl-malformed ${JSON.stringify(v)}`, `${POST}Content-Length: ${v}\r\n\r\n${BODY}`, [400]],
  ),
  // 4. Transfer-Encoding obfuscation.
  ...['xchunked', 'chunked, identity', 'identity, chunked', 'gzip, chunked', 'chunked, chunked', ', chunked', 'chunked;q=1', '"chunked"', 'eee, chunked'].map(
    (v) => [`te ${JSON.stringify(v)}`, `${POST}Transfer-Encoding: ${v}\r\n\r\n${chunk(BODY)}0\r\n\r\n${SMUGGLED}`, [400, 501]],
  ),
  ['te-eee-chunked-with-cl', `${POST}Transfer-Encoding: eee, chunked\r\nContent-Length: ${LEN}\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400, 501]],
  ['te-space-before-colon', `${POST}Transfer-Encoding : chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400]],
  ...[['vt', '\x0b'], ['ff', '\x0c'], ['nul', '\x00'], ['cr', '\r']].flatMap(([name, c]) => [
    [`te-leading-${name}`, `${POST}Transfer-Encoding: ${c}chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400, 501]],
    [`te-trailing-${name}`, `${POST}Transfer-Encoding: chunked${c}\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400, 501]],
  ]),
  ['te-duplicate-headers', `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400]],
  ['te-split-headers', `${POST}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400]],
  ['te-http10', `${POST.replace('HTTP/1.1', 'HTTP/1.0')}Transfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400]],
  // 5. obs-fold.
  ['obs-fold-te', `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n${chunk(BODY)}0\r\n\r\n`, [400]],
  ['obs-fold-other', `${POST}X-Note: a\r\n\tb\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  // 6. Bare LF and bare CR, NUL.
  ['bare-lf-everywhere', `${POST}Content-Length: ${LEN}\r\n\r\n`.replaceAll('\r\n', '\n') + BODY, [400]],
  ['bare-lf-one-header', `${POST}X-A: 1\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['bare-lf-request-line', `POST /v1/chat/completions HTTP/1.1\nHost: gw\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['bare-cr-header-value', `${POST}X-A: a\rContent-Length: 5\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['bare-cr-line-end', `${POST}X-A: a\rContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['nul-header-value', `${POST}X-A: a\x00b\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['nul-target', `POST /v1/chat/\x00completions HTTP/1.1\r\nHost: gw\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['space-in-header-name', `${POST}X A: 1\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['missing-host', `POST /v1/chat/completions HTTP/1.1\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['duplicate-host', `${POST}Host: evil\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  ['bad-version', `POST /v1/chat/completions HTTP/1.x\r\nHost: gw\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [400]],
  // 7. Bad chunk sizes and chunk framing.
  ...['FFFFFFFFFFFFFFFF0', '-1', '0x5', '+5', ' 5', '5_', '5 ', ';', 'g'].map(
    (v) => [`chunk-size ${JSON.stringify(v)}`, `${POST}Transfer-Encoding: chunked\r\n\r\n${v}\r\nhello\r\n0\r\n\r\n`, [400]],
  ),
  ['chunk-ext-bare-cr', `${POST}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n`, [400]],
  ['chunk-ext-bare-lf', `${POST}Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n`, [400]],
  ['chunk-missing-crlf', `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`, [400]],
  // Beast waits for a CRLF that never comes: closed at header_timeout (408), never forwarded.
  ['chunk-lf-only', `${POST}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`, [400, 408]],
  ['chunk-size-too-short', `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`, [400]],
  // 8. Trailers that would change framing.
  ['trailer-cl', `${POST}Transfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\nContent-Length: 5\r\n\r\n`, [400]],
  ['trailer-te', `${POST}Transfer-Encoding: chunked\r\n\r\n${chunk(BODY)}0\r\nTransfer-Encoding: chunked\r\n\r\n`, [400]],
  // 9. Sizes: request line, headers, header count.
  ['request-line-9KiB', `POST /v1/chat/completions?q=${'a'.repeat(9 * 1024)} HTTP/1.1\r\nHost: gw\r\nContent-Length: ${LEN}\r\n\r\n${BODY}`, [414]],
  ['headers-61KiB', `${POST}${Array.from({ length: 61 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(1000)}\r\n`).join('')}Content-Length: ${LEN}\r\n\r\n${BODY}`, [431]],
  ['header-fields-101', `${POST}${Array.from({ length: 101 }, (_, i) => `X-F-${i}: 1\r\n`).join('')}Content-Length: ${LEN}\r\n\r\n${BODY}`, [431]],
  // 10. Body over the cap, declared and streamed.
  ['body-cl-over-cap', `${POST}Content-Length: ${65 * 1024}\r\n\r\n${'a'.repeat(65 * 1024)}`, [413]],
  ['body-chunked-over-cap', `${POST}Transfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(40 * 1024))}${chunk('a'.repeat(40 * 1024))}0\r\n\r\n`, [413]],
];

const forwarded = () => upstream.requests.length;
const forwardedPosts = () => (upstream.raw.match(/POST /g) ?? []).length;

test('every smuggling and framing case of the catalog is refused, closed and never forwarded', async () => {
  const failures = [];
  for (const [id, request, statuses] of REFUSED) {
    const before = [forwarded(), forwardedPosts()];
    const r = await exchange(request);
    const status = statusOf(r.text);
    if (!statuses.includes(status)) failures.push(`${id}: got ${status || JSON.stringify(r.text.slice(0, 80))}, want ${statuses}`);
    else if (responsesIn(r.text) !== 1) failures.push(`${id}: ${responsesIn(r.text)} responses (a pipelined request ran)`);
    else if (!/\r\nconnection: close\r\n/i.test(r.text)) failures.push(`${id}: no connection: close`);
    else if (!r.closedByServer) failures.push(`${id}: the connection stayed open`);
    else if (!/"error":\{/.test(r.text)) failures.push(`${id}: the error body is not OpenAI-shaped`);
    if (forwarded() !== before[0] || forwardedPosts() !== before[1]) failures.push(`${id}: forwarded upstream`);
  }
  console.log(`# ${REFUSED.length} catalog cases sent, ${failures.length} failures`);
  assert.deepEqual(failures, []);
  assert.equal(upstream.requests.length, 0, 'the upstream saw no request at all');
});

test('what is accepted is forwarded re-framed: one Content-Length, no trailers, no hop-by-hop fields', async () => {
  const cases = [
    ['plain', `${POST}Content-Length: ${LEN}\r\nConnection: close\r\n\r\n${BODY}`],
    ['cl-list-same', `${POST}Content-Length: ${LEN}, ${LEN}\r\nConnection: close\r\n\r\n${BODY}`],
    ['te-chunked-any-case', `${POST}Transfer-Encoding: ChUnKeD\r\nConnection: close\r\n\r\n${chunk(BODY.slice(0, 10))}${chunk(BODY.slice(10))}0\r\n\r\n`],
    ['trailer-auth-host', `${POST}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk(BODY)}0\r\nAuthorization: Bearer smuggled\r\nHost: evil\r\nX-Trailer: t\r\n\r\n`],
  ];
  for (const [id, request] of cases) {
    const before = upstream.requests.length;
    const r = await exchange(request);
    assert.equal(statusOf(r.text), 200, `${id}: ${r.text.slice(0, 200)}`);
    assert.equal(upstream.requests.length, before + 1, id);
    const seen = upstream.requests.at(-1);
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(names.filter((n) => n === 'content-length').length, 1, `${id}: ${names}`);
    for (const name of ['transfer-encoding', 'authorization', 'x-trailer', 'connection']) {
      assert.ok(!names.includes(name), `${id}: ${name} reached the upstream`);
    }
    assert.equal(names.filter((n) => n === 'host').length, 1, id);
    assert.notEqual(seen.headers.host, 'evil', id);
    assert.equal(seen.body, BODY, id);
  }
});

// A well-behaved client: requests over one keep-alive connection (opened before an attack, as
// an established client's would be), with their latencies.
class GoodClient {
  constructor() {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    this.latencies = [];
    this.failures = [];
    this.running = false;
  }

  request() {
    return new Promise((resolve) => {
      const started = performance.now();
      const req = http.request(
        { host: '127.0.0.1', port: gateway.port, path: '/v1/chat/completions', method: 'POST', agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': LEN }, timeout: 10000 },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            if (res.statusCode === 200) this.latencies.push(performance.now() - started);
            else this.failures.push(`${res.statusCode} ${text.slice(0, 100)}`);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        this.failures.push(e.message);
        resolve();
      });
      req.end(BODY);
    });
  }

  start() {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.request();
        await sleep(10);
      }
    })();
  }

  async stop() {
    this.running = false;
    await this.loop;
    this.agent.destroy();
  }

  p99() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : NaN;
  }
}

// The well-behaved client's baseline, for the latencies printed with each attack.
let baselineP99;
test('baseline: a well-behaved client alone', async () => {
  const client = new GoodClient();
  for (let i = 0; i < 20; ++i) await client.request(); // Warm up.
  client.latencies = [];
  client.start();
  await sleep(3000);
  await client.stop();
  assert.deepEqual(client.failures, []);
  baselineP99 = client.p99();
  console.log(`# baseline: ${client.latencies.length} requests, p99 ${baselineP99.toFixed(2)} ms`);
});

async function underAttack(name, attack) {
  const client = new GoodClient();
  await client.request();
  client.latencies = [];
  client.start();
  try {
    await attack();
  } finally {
    await client.stop();
  }
  const p99 = client.p99();
  console.log(`# ${name}: well-behaved client ${client.latencies.length} requests, ${client.failures.length} failed, ` +
    `p99 ${p99.toFixed(2)} ms (baseline ${baselineP99?.toFixed(2)} ms, ${((p99 / baselineP99 - 1) * 100).toFixed(1)}%)`);
  assert.deepEqual(client.failures, [], `${name}: the well-behaved client's requests all succeed`);
  assert.ok(client.latencies.length >= 10, `${name}: the well-behaved client kept being served`);
  // Generous: a wedged worker would show as seconds, not as noise.
  assert.ok(p99 < 1000, `${name}: p99 ${p99} ms`);
}

// Opens a socket and dribbles `text` one byte per `interval` ms until the server closes it;
// resolves with how long the server took to close it and what it answered.
function dribble(text, interval) {
  return new Promise((resolve) => {
    const socket = net.connect(gateway.port, '127.0.0.1');
    const opened = Date.now();
    let received = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < text.length && socket.writable) socket.write(text[i++]);
    }, interval);
    socket.on('data', (d) => (received += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - opened, received, sent: i });
    });
    setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS + 10000);
  });
}

// Nothing an attack sent reached the upstream: every forwarded request is the good client's.
function assertOnlyGoodRequestsForwarded() {
  for (const r of upstream.requests) {
    assert.equal(r.body, BODY);
    assert.ok(!('x-slow' in r.headers));
  }
}

test('slowloris: heads dribbled byte by byte are cut at header_timeout with 408', async () => {
  await underAttack('slowloris (100 sockets)', async () => {
    const head = `${POST}X-Slow: ${'s'.repeat(500)}\r\n\r\n`;
    const results = await Promise.all(Array.from({ length: 100 }, () => dribble(head, 100)));
    for (const r of results) {
      assert.ok(r.sent < head.length, 'the head never completed');
      assert.ok(r.ms < HEADER_TIMEOUT_MS + 2000, `closed after ${r.ms} ms`);
      assert.match(r.received, /^HTTP\/1\.1 408 /);
    }
  });
  assertOnlyGoodRequestsForwarded();
});

// Sends a head at once, then its body one byte per `interval` ms until the server closes.
function slowPost(interval) {
  return new Promise((resolve) => {
    const socket = net.connect(gateway.port, '127.0.0.1');
    const opened = Date.now();
    let received = '';
    let i = 0;
    socket.write(`${POST}X-Slow: 1\r\nContent-Length: ${LEN}\r\n\r\n`);
    const timer = setInterval(() => {
      if (socket.writable && i < LEN) socket.write(BODY[i++]);
    }, interval);
    socket.on('data', (d) => (received += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - opened, received, sent: i });
    });
    setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS + 10000);
  });
}

test('slow POST: a body dribbled byte by byte is cut at header_timeout with 408', async () => {
  await underAttack('slow POST (50 sockets)', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => slowPost(100)));
    for (const r of results) {
      assert.ok(r.sent < LEN, 'the body never completed');
      assert.ok(r.ms < HEADER_TIMEOUT_MS + 2000, `closed after ${r.ms} ms`);
      assert.match(r.received, /^HTTP\/1\.1 408 /);
    }
  });
  assertOnlyGoodRequestsForwarded();
});

test('slow readers: clients that never read a large stream are dropped at send_timeout', async () => {
  const READERS = 20;
  await underAttack(`slow readers (${READERS} sockets)`, async () => {
    const aborted = upstream.streamsAborted;
    const body = JSON.stringify({
      model: 'capture', stream: true, stream_events: 1000, event_bytes: 64 * 1024,
      messages: [{ role: 'user', content: 'a long answer' }],
    });
    const sockets = [];
    const started = Date.now();
    for (let i = 0; i < READERS; ++i) {
      const socket = net.connect(gateway.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.pause(); // Never reads: the kernel buffers fill, then the gateway's writes stall.
      socket.write(`${POST}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      sockets.push(socket);
    }
    // Each stalled stream is dropped once a write has waited send_timeout; dropping it closes
    // its upstream stream, so nothing stays pinned.
    await waitFor(() => upstream.streamsAborted >= aborted + READERS && upstream.streamsOpen === 0, {
      timeout: SEND_TIMEOUT_MS + 20000, what: 'the stalled streams to be dropped',
    });
    console.log(`# slow readers: all ${READERS} streams dropped after ${Date.now() - started} ms (send_timeout ${SEND_TIMEOUT_MS} ms)`);
    for (const socket of sockets) socket.destroy();
  });
  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.equal(metricValue(metrics, 'deepseek_requests_in_flight'), 0, 'no request stays in flight');
});

test('connection flood: past max_connections new connections are closed at once, established ones keep being served', async () => {
  const FLOOD = 2000;
  const rejectedBefore = metricValue(await (await fetch(`${gateway.admin}/metrics`)).text(), 'deepseek_gateway_connections_rejected_total');
  let quickCloses = 0;
  await underAttack(`connection flood (${FLOOD} idle connections, limit ${MAX_CONNECTIONS})`, async () => {
    const closed = [];
    const sockets = [];
    for (let i = 0; i < FLOOD; ++i) {
      const socket = net.connect(gateway.port, '127.0.0.1');
      const opened = Date.now();
      socket.on('error', () => {});
      socket.on('close', () => closed.push(Date.now() - opened));
      sockets.push(socket);
      if (i % 200 === 199) await sleep(20);
    }
    await sleep(1000);
    quickCloses = closed.length;
    // The good client holds one or two connections of the limit.
    assert.ok(quickCloses >= FLOOD - MAX_CONNECTIONS, `${quickCloses} closed at once`);
    assert.ok(quickCloses <= FLOOD - MAX_CONNECTIONS + 2, `${quickCloses} closed at once`);
    // The flood's own connections never send a request: they are closed at header_timeout.
    await waitFor(() => closed.length === FLOOD, { timeout: HEADER_TIMEOUT_MS + 5000, what: 'the idle flood to be closed' });
    console.log(`# flood: ${quickCloses} of ${FLOOD} closed at accept, the rest within ${Math.max(...closed)} ms`);
    for (const socket of sockets) socket.destroy();
  });
  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.equal(metricValue(metrics, 'deepseek_gateway_connections_rejected_total') - rejectedBefore, quickCloses);
  // New clients are served again once the flood is gone.
  const r = await exchange(`${POST}Content-Length: ${LEN}\r\nConnection: close\r\n\r\n${BODY}`);
  assert.equal(statusOf(r.text), 200);
});
