// Bundles the CLI/daemon and the extension with esbuild (typechecking is `npm run typecheck`).
import { build } from 'esbuild';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // ssh2 (through dockerode) loads optional native add-ons inside try/catch. playwright-core (the
  // browser tool's driver) reads its own package files at run time, so it cannot be bundled: it
  // is copied to dist/vendor/ instead (below), where the bundles load it from.
  external: ['cpu-features', '*.node', 'playwright-core'],
  // jsonc-parser's UMD entry cannot be bundled; its ESM build can.
  mainFields: ['module', 'main'],
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['server/src/cli.ts'],
    outfile: 'dist/trajlab.js',
  }),
  // The threads that scan trajectories for `trajlab stats` (server/src/dataset/scanFiles.ts).
  build({
    ...common,
    entryPoints: ['server/src/dataset/scanWorker.ts'],
    outfile: 'dist/scanWorker.js',
  }),
  build({
    ...common,
    entryPoints: ['client/src/extension.ts'],
    outfile: 'dist/extension.js',
    external: [...common.external, 'vscode'],
  }),
  // Webviews: browser bundles (their CSS, e.g. diff2html's, is bundled beside them).
  build({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    // report: the quality report page, which `trajlab report` inlines into its HTML file.
    entryPoints: { trajectory: 'webviews/src/trajectory/main.ts', dataset: 'webviews/src/dataset/main.ts', report: 'webviews/src/report/main.ts' },
    outdir: 'dist/webviews',
    loader: { '.css': 'css' },
  }),
]);
chmodSync('dist/trajlab.js', 0o755);

// playwright-core's run-time files beside the bundles (dist/vendor/playwright-core, loaded by
// server/src/browser/session.ts), so the .vsix and a copied dist/ run browser tasks: its code,
// licences and package.json, without its type declarations, CLI and trace-viewer UI (lib/vite),
// which connecting over CDP never loads (about 8 MB, 1.7 MB compressed).
const pwFrom = path.dirname(createRequire(import.meta.url).resolve('playwright-core/package.json'));
const pwTo = 'dist/vendor/playwright-core';
rmSync(pwTo, { recursive: true, force: true });
cpSync(pwFrom, pwTo, {
  recursive: true,
  filter: (src) => {
    const rel = path.relative(pwFrom, src).split(path.sep).join('/');
    return !/^(types|bin|lib\/vite)(\/|$)/.test(rel) && !rel.endsWith('.d.ts');
  },
});
