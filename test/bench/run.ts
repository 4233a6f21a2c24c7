/**
 * `npm run bench`: runs every test/bench/*.bench.ts module (or those named on the command line)
 * and prints one table. Each module reports medians over several runs.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchRow } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows: BenchRow[] = [];
for (const f of files) {
  process.stderr.write(`bench: ${f} …\n`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
  try {
    rows.push(...(await mod.run()));
  } catch (e) {
    rows.push({ issue: 0, name: f, value: `FAILED: ${e instanceof Error ? e.message : String(e)}` });
  }
}

rows.sort((a, b) => a.issue - b.issue);
const header = ['issue', 'benchmark', 'result (median)', 'runs', 'target'];
const table = rows.map((r) => [`#${r.issue}`, r.name, r.value, String(r.runs ?? ''), r.target ?? '']);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of table) console.log(line(r));
process.exit(0);
