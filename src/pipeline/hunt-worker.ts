import { describeError } from '../core/errors.ts';
import { sigmaEngineOf } from '../detect/sigma/index.ts';
import type { WorkerInit, WorkerMessage, WorkerTask } from './match-log-file.ts';
import { matchLogFile } from './match-log-file.ts';

/**
 * Entry of a hunt worker process (forked with an IPC channel): the first
 * message brings the rules, compiled once; every later one a file to match.
 */
function start(init: WorkerInit): void {
  const port = { postMessage: (m: WorkerMessage) => process.send?.(m) };
  const engine = sigmaEngineOf(init.rules);
  port.postMessage({
    type: 'ready',
    stats: engine.stats(),
    issues: [...engine.issues],
  } satisfies WorkerMessage);
  // Files are matched one after the other, in the order they came; the next may already be waiting.
  let queue: Promise<unknown> = Promise.resolve();
  process.on('message', (task: WorkerTask) => {
    queue = queue
      .then(() => matchLogFile(engine, task))
      .then(
        (result) => port.postMessage({ type: 'done', result } satisfies WorkerMessage),
        (e: unknown) =>
          port.postMessage({ type: 'failed', id: task.id, error: describeError(e) } satisfies WorkerMessage),
      );
  });
}

if (process.send !== undefined) {
  process.once('message', (init: WorkerInit) => {
    if (init?.deminer === 'hunt-worker') start(init);
  });
  // The parent gone (killed, crashed), nothing is left to do.
  process.on('disconnect', () => process.exit(0));
}
