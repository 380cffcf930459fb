import { api } from './api.ts';
import type { Rule } from './types.ts';

/** The rule catalog changes only with a new server version: read once per tab, shared by the pages. */
let catalog: Promise<Rule[]> | null = null;

export function loadRules(): Promise<Rule[]> {
  if (!catalog) {
    catalog = api<{ items: Rule[] }>('/rules').then((r) => r.items);
    // A failure is not cached: the next page that asks tries again.
    catalog.catch(() => {
      catalog = null;
    });
  }
  return catalog;
}

/** Refreshes the fired counts (the rules page shows them). */
export function reloadRules(): Promise<Rule[]> {
  catalog = null;
  return loadRules();
}
