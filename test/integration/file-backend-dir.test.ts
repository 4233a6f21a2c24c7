/**
 * confd's `-file DIR -filter GLOB`: a -file that is a directory stands for the files below it whose
 * names match -filter (Go's filepath.Match), read depth first in lexical order, later ones winning.
 * The expected outputs are what real confd 0.17.0-dev rendered from this very tree (measured with
 * `confd -onetime -backend file -file data -filter …`). Under -watch a file added below the
 * directory is picked up.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../harness/cli.js';
import { removeDir, tempDir, waitFor } from '../harness/process.js';
import { makeWorkspace, startDaemon } from './daemon-fixture.js';
import { FileBackend } from '../../src/backends/file.js';

const TEMPLATE = '{{range gets "/*"}}{{.Key}}={{.Value}}\n{{end}}';

/** The tree confd was run on: files at two depths, a .txt, a JSON file, a symlinked file and directory. */
function dataTree(root: string): string {
  const data = join(root, 'data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  mkdirSync(join(data, 'zz'));
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(data, 'a.yaml'), 'a: from-a\nshared: a\n');
  writeFileSync(join(data, 'b.yml'), 'b: from-b\nshared: b\n');
  writeFileSync(join(data, 'sub', 'c.yaml'), 'c: from-c\nshared: c\n');
  writeFileSync(join(data, 'zz', 'y.yaml'), 'shared: zz\nz: from-zz\n');
  writeFileSync(join(data, 'j.json'), '{"j": "from-json", "shared": "json"}');
  writeFileSync(join(data, 'x.txt'), 'x: from-x\nshared: x\n');
  writeFileSync(join(root, 'outside', 'l.yaml'), 'l: from-linked-dir\n');
  writeFileSync(join(root, 'outside', 'f.yaml'), 'f: from-linked-file\n');
  symlinkSync(join(root, 'outside'), join(data, 'linkdir'));
  symlinkSync(join(root, 'outside', 'f.yaml'), join(data, 'linkfile.yaml'));
  return data;
}

/** confd's outputs for this tree, by -filter (undefined = the flag left out). */
const CONFD: [string | undefined, string][] = [
  [undefined, '/a=from-a\n/b=from-b\n/c=from-c\n/f=from-linked-file\n/j=from-json\n/shared=zz\n/x=from-x\n/z=from-zz\n'],
  ['*.y*ml', '/a=from-a\n/b=from-b\n/c=from-c\n/f=from-linked-file\n/shared=zz\n/z=from-zz\n'],
  ['*.yaml', '/a=from-a\n/c=from-c\n/f=from-linked-file\n/shared=zz\n/z=from-zz\n'],
  ['[a-c].*', '/a=from-a\n/b=from-b\n/c=from-c\n/shared=c\n'],
  ['*.json', '/j=from-json\n/shared=json\n'],
];

test('-file DIR with -filter: the files confd reads, in confd\'s order', async () => {
  const root = tempDir('file-dir');
  try {
    const data = dataTree(root);
    const confdir = join(root, 'conf');
    mkdirSync(join(confdir, 'conf.d'), { recursive: true });
    mkdirSync(join(confdir, 'templates'));
    writeFileSync(join(confdir, 'templates', 't.tmpl'), TEMPLATE);
    const dest = join(root, 'out');
    writeFileSync(join(confdir, 'conf.d', 't.toml'), `[template]\nsrc = "t.tmpl"\ndest = ${JSON.stringify(dest)}\nkeys = ["/"]\n`);
    for (const [filter, expected] of CONFD) {
      const r = await runCli(['-onetime', '-backend', 'file', '-file', data, ...(filter === undefined ? [] : ['-filter', filter]), '-confdir', confdir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(dest, 'utf8'), expected, `-filter ${filter ?? '(default)'}`);
    }
    // A file and a directory together, in the order given (confd: /a, /j, /shared=json).
    const mixed = await runCli(['-onetime', '-backend', 'file', '-file', join(data, 'a.yaml'), '-file', data, '-filter', '*.json', '-confdir', confdir]);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal(readFileSync(dest, 'utf8'), '/a=from-a\n/j=from-json\n/shared=json\n');
    // A malformed pattern is a configuration error, before anything is read.
    const bad = await runCli(['-onetime', '-backend', 'file', '-file', data, '-filter', '[a', '-confdir', confdir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-filter: syntax error in pattern "\[a"/);
  } finally {
    removeDir(root);
  }
});

test('-watch -file DIR: a matching file added below the directory is rendered, a non-matching one is not read', async () => {
  const ws = makeWorkspace('file-dir-watch');
  try {
    const data = join(ws.dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.yaml'), 'members:\n  pg1: a\n');
    ws.writeTemplate('m.tmpl', '{{range gets "/members/*"}}{{base .Key}} {{.Value}}\n{{end}}');
    ws.writeResource('m.toml', `[template]\nsrc = "m.tmpl"\ndest = ${JSON.stringify(ws.path('m.conf'))}\nkeys = ["/members"]\n`);
    const d = startDaemon(ws, ['-watch', '-backend', 'file', '-file', data, '-filter', '*.yaml']);
    try {
      await waitFor('first render', () => ws.read('m.conf') === 'pg1 a\n', 15_000);
      writeFileSync(join(data, 'ignored.txt'), 'members:\n  pg0: never\n');
      mkdirSync(join(data, 'more'));
      writeFileSync(join(data, 'more', 'b.yaml'), 'members:\n  pg2: b\n');
      await waitFor('the new file under a new subdirectory', () => ws.read('m.conf') === 'pg1 a\npg2 b\n', 15_000);
    } catch (e) {
      console.error(`--- haconfd log ---\n${d.text().slice(-3000)}`);
      throw e;
    } finally {
      await d.stop();
    }
  } finally {
    ws.cleanup();
  }
});

test('-watch -file DIR: a change made after the first read and before the watch is armed is not lost', async () => {
  const root = tempDir('file-dir-armed');
  try {
    const data = join(root, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.yaml'), 'a: 1\n');
    const backend = new FileBackend([data], '*.yaml');
    await backend.read(['/']);
    // After the read, before watch(): no chokidar event can report these (ignoreInitial). Under a
    // loaded machine this window was long enough for the daemon test above to miss a new file.
    mkdirSync(join(data, 'more'));
    writeFileSync(join(data, 'more', 'b.yaml'), 'b: 2\n');
    const resyncs: string[] = [];
    let connected = false;
    const w = backend.watch(['/'], 1, {
      onEvents: () => undefined,
      onResync: (reason) => resyncs.push(reason),
      onStatus: (status) => {
        if (status === 'connected') connected = true;
      },
    });
    try {
      await waitFor('the watch armed', () => connected, 15_000);
      await waitFor('a re-read asked for', () => resyncs.length > 0, 15_000);
      assert.deepEqual((await backend.read(['/'])).pairs, new Map([['/a', '1'], ['/b', '2']]));
    } finally {
      await w.close();
    }
  } finally {
    removeDir(root);
  }
});
