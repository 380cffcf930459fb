// The "infected" host's traffic for the isolation tests: a stratum client that
// logs in to a pool and sends a keepalive every INTERVAL ms, printing
// `ANS <epoch ms>` for each answer, and reconnecting when the connection dies.
// Usage: node chatter.mjs HOST PORT [INTERVAL_MS]
import { connect } from 'node:net';

const [host, port, interval = '10'] = process.argv.slice(2);
let id = 0;

function start() {
  const sock = connect({ host, port: Number(port) });
  let buf = '';
  let timer;
  const retry = () => {
    clearInterval(timer);
    sock.destroy();
    setTimeout(start, 200);
  };
  sock.setTimeout(3000, retry);
  sock.on('connect', () => {
    process.stdout.write(`CONNECTED ${Date.now()}\n`);
    sock.write(
      `${JSON.stringify({ id: ++id, method: 'login', params: { login: 'wallet', agent: 'chatter' } })}\n`,
    );
    timer = setInterval(
      () => sock.write(`${JSON.stringify({ id: ++id, method: 'keepalived', params: {} })}\n`),
      Number(interval),
    );
  });
  sock.on('data', (d) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      buf = buf.slice(i + 1);
      process.stdout.write(`ANS ${Date.now()}\n`);
    }
  });
  sock.on('error', retry);
  sock.on('close', () => clearInterval(timer));
}
start();
process.on('SIGTERM', () => process.exit(0));
