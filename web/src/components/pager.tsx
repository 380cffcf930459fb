/**
 * Server paging with the API's opaque cursor: "next" follows `next`,
 * "previous" goes back through the cursors this view has seen, "first"
 * drops the cursor (a deep link into page 5 has no history to go back by).
 */
export function Pager({
  cursor,
  next,
  history,
  onPage,
  shown,
  label,
}: {
  cursor: string | undefined;
  next: string | null | undefined;
  history: readonly (string | undefined)[];
  onPage: (cursor: string | undefined, history: (string | undefined)[]) => void;
  shown: number;
  label: string;
}) {
  const atFirst = cursor === undefined;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={atFirst} onClick={() => onPage(undefined, [])}>
        First
      </button>
      <button
        type="button"
        disabled={atFirst}
        onClick={() => {
          const h = [...history];
          const prev = h.pop();
          onPage(prev, h);
        }}
      >
        Previous
      </button>
      <span className="muted">
        {shown} {shown === 1 ? 'row' : 'rows'} on this page
      </span>
      <button
        type="button"
        disabled={!next}
        onClick={() => {
          if (next) onPage(next, [...history, cursor]);
        }}
      >
        Next
      </button>
    </nav>
  );
}
