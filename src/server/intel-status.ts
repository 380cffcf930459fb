import { listFeedStates } from '../intel/state.ts';

/**
 * The threat-intel feeds' health as `deminer intel update` left it in its
 * local state folder (one small JSON file per feed): what the overview
 * shows beside the findings. Read from disk at most every few seconds.
 */

export interface FeedHealth {
  name: string;
  ok: boolean;
  last_success: string | null;
  indicators: number | null;
  message: string | null;
}

/** The folder `deminer intel` uses by default ($DEMINER_HOME/intel or ~/.deminer/intel); loaded when first asked. */
async function defaultIntelStateDir(): Promise<string> {
  const { resolveStateDir } = await import('../intel/config.ts');
  return resolveStateDir();
}

const FRESH_MS = 10_000;
const cache = new Map<string, { at: number; feeds: FeedHealth[] | null }>();

/** The feeds of `dir` (undefined: the default folder), or null when it holds none (intel was never updated here). */
export async function intelFeeds(
  where: string | null | undefined,
  now = Date.now(),
): Promise<{ feeds: FeedHealth[] } | null> {
  if (where === null) return null;
  const dir = where ?? (await defaultIntelStateDir());
  const hit = cache.get(dir);
  if (hit && now - hit.at < FRESH_MS) return hit.feeds === null ? null : { feeds: hit.feeds };
  let feeds: FeedHealth[] | null;
  try {
    const states = listFeedStates(dir);
    feeds =
      states.length === 0
        ? null
        : states.map((s) => {
            const ok = s.status === 'ok' || s.status === 'not-modified';
            return {
              name: s.name,
              ok,
              last_success: typeof s.lastSuccess === 'string' ? s.lastSuccess : null,
              indicators: Number.isInteger(s.indicators) ? s.indicators : null,
              message:
                typeof s.warning === 'string' && s.warning !== ''
                  ? s.warning
                  : ok
                    ? null
                    : s.status === 'empty'
                      ? 'the last update found no indicators'
                      : 'the last update failed',
            };
          });
  } catch {
    // An unreadable folder is no feed state: the overview still answers.
    feeds = null;
  }
  cache.set(dir, { at: now, feeds });
  return feeds === null ? null : { feeds };
}

/** Forgets what was read, so the next overview sees an update that just ran. */
export function forgetIntelFeeds(): void {
  cache.clear();
}
