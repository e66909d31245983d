// bench/attack's attacker, in its own process: one attack from the HTTP catalog
// (SECURITY_RELIABILITY.md 7), kept up for --seconds against host:port.
//   slowloris  sockets that dribble a request head one byte every 200 ms, reopened when closed
//   slowpost   sockets that send a head, then the body one byte every 200 ms, reopened when closed
//   flood      idle connections that never send anything, reopened when closed
//   junk       malformed requests (smuggling and framing cases), each on a new connection, at a
//              fixed rate
// Usage: node attacker.mjs MODE PORT SECONDS [COUNT]
import net from 'node:net';

const [mode, portText, secondsText, countText] = process.argv.slice(2);
const port = Number(portText);
const until = Date.now() + Number(secondsText) * 1000;
const POST = 'POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n';
let opened = 0;
let answered = 0;

function keep(open) {
  const again = () => {
    if (Date.now() < until) setTimeout(() => keep(open), 10);
  };
  open(again);
}

function dribbler(text, again) {
  const socket = net.connect(port, '127.0.0.1');
  ++opened;
  let i = 0;
  const timer = setInterval(() => {
    if (socket.writable) socket.write(text[i++ % text.length]);
  }, 200);
  socket.on('data', () => ++answered);
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    again();
  });
}

function idle(again) {
  const socket = net.connect(port, '127.0.0.1');
  ++opened;
  socket.on('error', () => {});
  socket.on('close', again);
}

const JUNK = [
  `${POST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  `${POST}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
  `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
  `${POST}X-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\n{}`,
  `POST /v1/chat/completions HTTP/1.1\nHost: bench\nContent-Length: 2\n\n{}`,
  `${POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: bench\r\n\r\n`,
];

function junk(index) {
  const socket = net.connect(port, '127.0.0.1', () => socket.end(JUNK[index % JUNK.length]));
  ++opened;
  socket.on('data', () => ++answered);
  socket.on('error', () => {});
}

const count = Number(countText ?? 0);
if (mode === 'slowloris') {
  const head = `${POST}X-Slow: ${'s'.repeat(2000)}\r\n\r\n`;
  for (let i = 0; i < (count || 500); ++i) keep((again) => dribbler(head, again));
} else if (mode === 'slowpost') {
  for (let i = 0; i < (count || 300); ++i) {
    keep((again) => {
      const socket = net.connect(port, '127.0.0.1');
      ++opened;
      socket.write(`${POST}Content-Length: 100000\r\n\r\n`);
      const timer = setInterval(() => socket.writable && socket.write('x'), 200);
      socket.on('data', () => ++answered);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        again();
      });
    });
  }
} else if (mode === 'flood') {
  for (let i = 0; i < (count || 3000); ++i) keep(idle);
} else if (mode === 'junk') {
  const rate = count || 500;
  let sent = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < rate / 100; ++i) junk(sent++);
  }, 10);
  setTimeout(() => clearInterval(timer), until - Date.now());
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
setTimeout(() => {
  console.error(`${mode}: ${opened} connections opened, ${answered} answers read`);
  process.exit(0);
}, until - Date.now() + 100);
