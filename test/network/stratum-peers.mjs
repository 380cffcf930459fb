// A tiny stratum pool and an XMRig-style client for the live-capture test.
// Usage: node stratum-peers.mjs pool PORT | node stratum-peers.mjs client HOST PORT
import { createConnection, createServer } from 'node:net';

const [role, a, b] = process.argv.slice(2);
if (role === 'pool') {
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const msg = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (msg.method === 'login') {
          sock.write(
            `${JSON.stringify({ id: msg.id, jsonrpc: '2.0', error: null, result: { id: '1', job: { blob: '0707', job_id: 'j1', target: 'ffffff00', algo: 'rx/0' }, status: 'OK' } })}\n`,
          );
        } else
          sock.write(
            `${JSON.stringify({ id: msg.id, jsonrpc: '2.0', error: null, result: { status: 'OK' } })}\n`,
          );
        i = buf.indexOf('\n');
      }
    });
    sock.on('error', () => {});
  });
  server.listen(Number(a), () => process.stdout.write('ready\n'));
} else {
  const sock = createConnection({ host: a, port: Number(b) }, () => {
    sock.write(
      `${JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login', params: { login: '48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD', pass: 'x', agent: 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0', algo: ['rx/0'] } })}\n`,
    );
    setTimeout(() => {
      sock.write(
        `${JSON.stringify({ id: 2, jsonrpc: '2.0', method: 'submit', params: { id: '1', job_id: 'j1', nonce: 'deadbeef', result: '00'.repeat(32) } })}\n`,
      );
      setTimeout(() => sock.end(), 300);
    }, 300);
  });
  sock.on('data', () => {});
  sock.on('close', () => process.exit(0));
}
