import { useCallback, useState } from 'react';
import { type Location, navigate, withQuery } from './router.ts';

/**
 * Server paging state of a list view: the cursor is in the address (a page
 * is a link); the cursors that led here are remembered for "previous" as
 * long as the filters stay the same.
 */
export function usePaging(loc: Location) {
  const cursor = loc.query.get('cursor') ?? undefined;
  const rest = new URLSearchParams(loc.query);
  rest.delete('cursor');
  const filters = `${loc.path}?${rest.toString()}`;
  const [state, setState] = useState<{ filters: string; history: (string | undefined)[] }>({
    filters,
    history: [],
  });
  const history = state.filters === filters ? state.history : [];
  const onPage = useCallback(
    (next: string | undefined, h: (string | undefined)[]) => {
      setState({ filters, history: h });
      navigate(withQuery(loc, { cursor: next }));
    },
    [filters, loc],
  );
  return { cursor, history, onPage };
}
