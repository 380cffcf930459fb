// Bundles the CLI into dist/deminer.mjs so that `deminer` starts in a fraction
// of the time the TypeScript loader needs. Run by `npm ci`/`npm install`
// (the `prepare` script); bin/deminer.js falls back to the sources when the
// bundle is missing or older than them.
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // Installed without dev dependencies: bin/deminer.js runs the sources instead.
  process.stderr.write('deminer: esbuild not installed, skipping the bundle (the CLI runs from source)\n');
  process.exit(0);
}

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
