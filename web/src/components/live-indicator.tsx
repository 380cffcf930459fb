import { useEffect, useState } from 'react';
import { clockTime, utcTitle } from '../format.ts';
import { useStreamState } from '../stream.ts';

/** "Live" while the stream runs; otherwise when the data on screen was last read, and that it is retrying. */
export function LiveIndicator() {
  const s = useStreamState();
  const [, tick] = useState(0);
  useEffect(() => {
    if (s.status !== 'down') return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [s.status]);
  const updated = s.lastUpdated === null ? null : clockTime(s.lastUpdated);
  const title = s.lastUpdated === null ? undefined : `last updated ${utcTitle(s.lastUpdated)}`;
  let text: string;
  if (s.status === 'live') text = updated ? `Live · updated ${updated}` : 'Live';
  else if (s.status === 'down') {
    const secs = s.retryAt === null ? 0 : Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
    text = `Last updated ${updated ?? 'never'} (stream down, retrying${secs > 0 ? ` in ${secs} s` : ''})`;
  } else if (s.status === 'connecting') text = updated ? `Connecting… · updated ${updated}` : 'Connecting…';
  else text = 'Not connected';
  return (
    <output className={`live live-${s.status}`} title={title} aria-live="polite" data-testid="live">
      <span className="live-dot" aria-hidden="true" />
      {text}
    </output>
  );
}
