// A capture upstream for attack and leak tests: an OpenAI-shaped model server (Node's own HTTP
// server, whose llhttp parser is strict) that records every byte and every request that reaches
// it, so that a test can assert what the gateway forwarded, or that it forwarded nothing.
//
// POST /v1/chat/completions answers a one-word completion; with "stream": true it answers an SSE
// stream of `stream_events` events of `event_bytes` bytes each (large, for slow-reader tests),
// written with backpressure. `delay_ms` in the request body delays the answer; `content_bytes`
// pads the completion's content to that size, sent with Content-Length, or in 64 KiB chunks
// without it when `chunked` is true (large answers for memory tests), the connection dropped
// after `die_after_bytes` of them when given. GET /health
// answers 200; health checks and /metrics scrapes are recorded apart from `requests`.
import http from 'node:http';

export async function startCaptureUpstream() {
  const upstream = {
    raw: '',            // Every byte received on every connection, health checks included.
    requests: [],       // {method, url, headers, rawHeaders, body} of each non-health request.
    probes: 0,          // Health checks and scrapes.
    streamsOpen: 0,     // SSE responses still being written.
    streamsAborted: 0,  // SSE responses whose downstream (the gateway) went away mid-stream.
  };
  const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && (req.url === '/health' || req.url === '/metrics')) {
        ++upstream.probes;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(req.url === '/health' ? 'ok' : '');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      upstream.requests.push({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body });
      let parsed = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // Answered anyway: the test looks at what arrived.
      }
      const answer = () => (parsed.stream ? stream(res, parsed) : complete(res, parsed));
      if (parsed.delay_ms) setTimeout(answer, parsed.delay_ms);
      else answer();
    });
  });
  server.on('connection', (socket) => socket.on('data', (d) => (upstream.raw += d.toString('latin1'))));
  server.on('clientError', (err, socket) => socket.destroy());

  function complete(res, parsed) {
    const content = parsed.content_bytes ? 'c'.repeat(parsed.content_bytes) : 'captured';
    const body = JSON.stringify({
      id: 'chatcmpl-capture',
      object: 'chat.completion',
      created: 0,
      model: parsed.model ?? 'capture',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    if (!parsed.chunked) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    let offset = 0;
    const pump = () => {
      while (offset < body.length) {
        if (parsed.die_after_bytes && offset >= parsed.die_after_bytes) {
          res.socket.destroy(); // The replica dies mid-answer.
          return;
        }
        const piece = body.slice(offset, offset + 65536);
        offset += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }

  function stream(res, parsed) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    ++upstream.streamsOpen;
    const events = parsed.stream_events ?? 10;
    const payload = 'x'.repeat(parsed.event_bytes ?? 16);
    let sent = 0;
    let done = false;
    const finish = (aborted) => {
      if (done) return;
      done = true;
      --upstream.streamsOpen;
      if (aborted) ++upstream.streamsAborted;
    };
    res.on('close', () => finish(sent < events));
    const pump = () => {
      while (sent < events) {
        const event = {
          id: 'chatcmpl-capture', object: 'chat.completion.chunk', created: 0, model: parsed.model ?? 'capture',
          choices: [{ index: 0, delta: { content: payload }, finish_reason: null }],
        };
        ++sent;
        if (!res.write(`data: ${JSON.stringify(event)}\n\n`)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end('data: [DONE]\n\n');
      finish(false);
    };
    pump();
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${server.address().port}`;
  upstream.server = server;
  upstream.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return upstream;
}
