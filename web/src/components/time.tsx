import { ago, localTime, utcTitle } from '../format.ts';

/** A time in the viewer's zone (or how long ago), with the exact time in UTC on hover. */
export function Time({ iso, relative = false }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={relative ? `${localTime(ms)} (${utcTitle(ms)})` : utcTitle(ms)}>
      {relative ? ago(ms) : <DateAndTime text={localTime(ms)} />}
    </time>
  );
}

/** A narrow column may put the time under the date, never break either. */
function DateAndTime({ text }: { text: string }) {
  const [date, clock] = text.split(' ');
  return (
    <>
      <span className="nowrap">{date}</span> <span className="nowrap">{clock}</span>
    </>
  );
}
