// Bundles the CLI into dist/deminer.mjs so that `deminer` starts in a fraction
// of the time the TypeScript loader needs, and builds the web console (web/)
// into dist/web/, which `deminer serve`/`up` serve at /. Run by `npm ci`/
// `npm install` (the `prepare` script); bin/deminer.js falls back to the
// sources when the bundle is missing or older than them.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // Installed without dev dependencies: bin/deminer.js runs the sources instead.
  process.stderr.write('deminer: esbuild not installed, skipping the bundle (the CLI runs from source)\n');
  process.exit(0);
}

// Chunks of an earlier build would pile up beside the new ones.
rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });

await build({
  // The hunt's worker threads load their own entry, beside the CLI's.
  entryPoints: { deminer: 'src/cli/main.ts', 'hunt-worker': 'src/pipeline/hunt-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // One chunk per command (src/cli/main.ts loads each with import()): the
  // resident agent never reads the server, the console's routes, the EVTX
  // parser or the Sigma engine. V8 keeps the source of every loaded file in
  // memory, so what is not loaded is not paid for.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Without comments and spaces the source V8 keeps is half the size; names
  // stay (no identifier mangling), so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // A native addon (RE2, the linear-time regex engine): loaded from node_modules at run time, not bundled.
  external: ['re2', 'better-sqlite3', 'pg', 'pg-native'],
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

await buildConsole();

/**
 * The console: type-checked with its own tsconfig (browser types, JSX; the
 * root tsconfig leaves web/ out), then bundled by Vite into dist/web/.
 * Everything it needs is in the bundle: the server's CSP allows nothing from
 * another origin and no inline script.
 */
async function buildConsole() {
  let vite;
  let react;
  try {
    vite = await import('vite');
    react = (await import('@vitejs/plugin-react')).default;
  } catch {
    process.stderr.write('deminer: vite not installed, skipping the web console (dist/web)\n');
    return;
  }
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'web'), '--noEmit'],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) {
    process.stderr.write('deminer: the web console does not type-check (tsc -p web)\n');
    process.exit(1);
  }
  await vite.build({
    root: join(root, 'web'),
    base: '/',
    configFile: false,
    envDir: false,
    logLevel: 'warn',
    clearScreen: false,
    plugins: [react()],
    build: {
      outDir: join(root, 'dist/web'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      // Small assets become data: URIs (allowed for images by the CSP); no font is fetched from anywhere.
      assetsInlineLimit: 4096,
      chunkSizeWarningLimit: 800,
    },
  });
}
