// Bundles the CLI into dist/deminer.mjs so that `deminer` starts in a fraction
// of the time the TypeScript loader needs. Run by `npm ci`/`npm install`
// (the `prepare` script); bin/deminer.js falls back to the sources when the
// bundle is missing or older than them.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/deminer.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require(); give them one.
  banner: {
    js: "import { createRequire as __deminerRequire } from 'node:module'; const require = __deminerRequire(import.meta.url);",
  },
});
