// One stratum round trip: exits 0 when the pool at HOST:PORT answers a login
// within TIMEOUT ms, 1 otherwise. Usage: node probe.mjs HOST PORT [TIMEOUT_MS]
import { connect } from 'node:net';

const [host, port, timeout = '1000'] = process.argv.slice(2);
const sock = connect({ host, port: Number(port) });
const fail = () => process.exit(1);
setTimeout(fail, Number(timeout));
sock.on('error', fail);
sock.on('connect', () =>
  sock.write(`${JSON.stringify({ id: 1, method: 'login', params: { login: 'probe' } })}\n`),
);
sock.on('data', (d) => {
  if (d.toString().includes('\n')) process.exit(0);
});
