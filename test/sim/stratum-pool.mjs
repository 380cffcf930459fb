// A minimal stratum pool for tests: answers XMRig-style `login` with a job and
// `submit`/`keepalived` with OK, and prints one line per login on stdout.
// Usage: node stratum-pool.mjs [--host 127.0.0.1] [--port 0]
import { createServer } from 'node:net';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '0'));

const server = createServer((sock) => {
  let buf = '';
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf += d.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.method === 'login') {
        process.stdout.write(
          `LOGIN ${JSON.stringify({ agent: msg.params?.agent, login: msg.params?.login })}\n`,
        );
        const job = {
          blob: '0'.repeat(152),
          job_id: '1',
          target: 'b88d0600',
          algo: 'rx/0',
          height: 1,
          seed_hash: '0'.repeat(64),
        };
        sock.write(
          `${JSON.stringify({ id: msg.id, jsonrpc: '2.0', error: null, result: { id: 'w1', job, status: 'OK' } })}\n`,
        );
      } else {
        sock.write(
          `${JSON.stringify({ id: msg.id, jsonrpc: '2.0', error: null, result: { status: 'OK' } })}\n`,
        );
      }
    }
  });
});
server.listen(port, host, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
