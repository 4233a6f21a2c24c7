#!/usr/bin/env node
// npm's "prepare" step and `npm run build`: builds a fresh dist/ from src/ in a checkout (npm ci,
// npm pack, npm install -g .).
// In an installed tarball there is no src/: dist/ came built in the package, nothing to do.
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'src'))) process.exit(0);

let tsc;
try {
  tsc = join(dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  console.error(
    'haconfd: building dist/ needs the dev dependencies (TypeScript), which are not installed here.\n' +
      'Run `npm ci` in the checkout first, then `npm install -g .` (or install a tarball made by `npm pack`).',
  );
  process.exit(1);
}
// A fresh dist/: a module moved or deleted in src/ must not live on in dist/ (it would be packed,
// and a stale copy can hide a broken import path).
rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
