import { type Failure, sameFailure } from './failure.ts';
import { type Outcome, Replayer } from './replayer.ts';

/**
 * Delta debugging over bytes: remove chunks of halving size (the whole input,
 * halves, quarters… single bytes), keeping a removal whenever the smaller
 * input still `reproduces`, and repeat the single-byte pass until nothing
 * more can go. Stops at `deadline` (ms since the epoch) with the smallest
 * input so far.
 */
export async function deltaDebug(
  input: Uint8Array,
  reproduces: (candidate: Uint8Array) => Promise<boolean>,
  deadline: number,
): Promise<Uint8Array> {
  let cur = input;
  let chunk = cur.length;
  while (chunk >= 1 && cur.length > 0) {
    let removed = false;
    for (let at = 0; at < cur.length; ) {
      if (Date.now() >= deadline) return cur;
      const candidate = new Uint8Array(cur.length - Math.min(chunk, cur.length - at));
      candidate.set(cur.subarray(0, at));
      candidate.set(cur.subarray(at + chunk), at);
      if (await reproduces(candidate)) {
        cur = candidate;
        removed = true;
      } else at += chunk;
    }
    if (chunk > 1) chunk = Math.min(chunk >> 1, cur.length);
    // At one byte, another pass can succeed where the previous one failed: a byte that mattered only beside one now gone.
    else if (!removed) break;
  }
  return cur;
}

export interface Minimised {
  /** How the original input fails, or `undefined` when it did not fail when replayed. */
  failure: Failure | undefined;
  input: Uint8Array;
  tries: number;
  /** True when it stopped on the time budget rather than because nothing more could go. */
  outOfTime: boolean;
}

/**
 * Shrinks an input that makes `target` fail, each candidate run in a watched
 * worker (so hangs and out-of-memory ends are reproduced too), keeping a
 * candidate only when it fails the same way: same error class and first line
 * of the message, or a hang, or the same worker end.
 */
export async function minimiseInput(
  target: string,
  input: Uint8Array,
  options: { timeoutMs: number; seconds: number },
): Promise<Minimised> {
  const replayer = new Replayer(target, options.timeoutMs);
  const deadline = Date.now() + options.seconds * 1000;
  let tries = 0;
  try {
    const first: Outcome = await replayer.run(input);
    tries++;
    if (first.kind === 'ok') return { failure: undefined, input, tries, outOfTime: false };
    const failure = first;
    const out = await deltaDebug(
      input,
      async (c) => {
        tries++;
        const o = await replayer.run(c);
        return o.kind !== 'ok' && sameFailure(o, failure);
      },
      deadline,
    );
    return { failure, input: out, tries, outOfTime: Date.now() >= deadline };
  } finally {
    await replayer.close();
  }
}
