// Runs the bundled CLI (dist/deminer.mjs) whatever its age relative to the
// sources: bin/deminer.js falls back to the TypeScript sources when any
// source file is newer than the bundle, which in a checkout being edited is
// most of the time. Used by agent-cost.ts to measure what users run
// (DEMINER_BENCH_BUNDLE: another build of it).
import { pathToFileURL } from 'node:url';

const bundle = process.env.DEMINER_BENCH_BUNDLE;
const { main } = await import(
  bundle ? pathToFileURL(bundle).href : new URL('../../dist/deminer.mjs', import.meta.url).href
);
process.exitCode = await main(process.argv);
