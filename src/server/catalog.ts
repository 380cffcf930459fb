import type { CatalogEntry } from '../detect/catalog.ts';

/**
 * The built-in rule catalog (src/detect/catalog.ts), built once per process
 * on first use: it compiles the shipped Sigma rules, which a server that
 * is never asked about rules should not pay for at start.
 */
let loading: Promise<ReadonlyMap<string, CatalogEntry>> | undefined;

export function builtinCatalog(): Promise<ReadonlyMap<string, CatalogEntry>> {
  loading ??= (async () => {
    const { builtinDetectors, ruleCatalog } = await import('../detect/catalog.ts');
    return new Map(ruleCatalog(builtinDetectors()).map((e) => [e.id, e]));
  })();
  // A failure is not cached: the next request tries again.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
