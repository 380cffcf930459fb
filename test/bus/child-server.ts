/**
 * A server in a process of its own, for the tests that kill one abruptly:
 * started with the settings in DEMINER_TEST_CHILD_SERVER (JSON of
 * startServer's options), it prints its URL on stdout and runs until killed.
 *
 * With DEMINER_TEST_CHILD_HOLD_MS it is built from the same parts as
 * startServer's, but its consumer waits that long after each batch is
 * committed before acknowledging it: a kill then lands in the window where
 * a batch is stored and its message not yet acknowledged.
 */
import { openNatsBus } from '../../src/bus/nats.ts';
import { buildServer, type StartOptions, startServer } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';

const options = JSON.parse(process.env.DEMINER_TEST_CHILD_SERVER ?? '{}') as StartOptions;
const holdMs = Number(process.env.DEMINER_TEST_CHILD_HOLD_MS ?? 0);

if (holdMs > 0 && options.nats !== undefined) {
  const store = await openStore(options.database === undefined ? {} : { database: options.database });
  const slow = Object.create(store) as typeof store;
  slow.ingestFindings = async (batch, opts) => {
    const r = await store.ingestFindings(batch, opts);
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    return r;
  };
  const bus = await openNatsBus({ ...options.natsOptions, url: options.nats, store: slow });
  const app = buildServer({ store, bus, version: '0.0.0-test' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  bus.startConsuming();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
} else {
  const server = await startServer({ ...options, host: '127.0.0.1', port: 0, version: '0.0.0-test' });
  process.stdout.write(`${server.url}\n`);
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0));
  });
}
