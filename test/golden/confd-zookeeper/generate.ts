/**
 * Regenerates runs/<name>/expected.out|err by RUNNING a confd binary (built by the reader; see
 * README.md) against a real ZooKeeper holding tree.json. It never builds or downloads anything.
 *
 *   node --import tsx test/golden/confd-zookeeper/generate.ts /path/to/confd
 *
 * Starts Debian's ZooKeeper (/usr/share/zookeeper/bin/zkServer.sh start-foreground, package
 * zookeeper) in a temp dir on a free 127.0.0.1 port, creates the znodes of tree.json with zkCli.sh,
 * runs `confd -onetime -backend zookeeper` once per run directory, then stops ZooKeeper by its
 * process group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZK_BIN = '/usr/share/zookeeper/bin';
const CONFDIR_PLACEHOLDER = '<CONFDIR>';
const here = import.meta.dirname;

interface Znode {
  path: string;
  data: string | null;
}

function readTree(): Znode[] {
  const parsed = JSON.parse(readFileSync(join(here, 'tree.json'), 'utf8')) as { znodes?: unknown };
  if (!Array.isArray(parsed.znodes)) throw new Error('tree.json: znodes must be a list');
  return parsed.znodes.map((z: unknown, i: number) => {
    const o = z as { path?: unknown; data?: unknown };
    if (typeof o.path !== 'string' || !(typeof o.data === 'string' || o.data === null)) throw new Error(`tree.json: znode ${i} malformed`);
    // zkCli.sh takes the data as one single-quoted word.
    if (typeof o.data === 'string' && /['\n\r]/.test(o.data)) throw new Error(`tree.json: ${o.path}: data may not hold ' or a newline`);
    return { path: o.path, data: o.data };
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function ruok(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('ruok'));
    let got = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolve(got === 'imok'));
    sock.on('error', () => resolve(false));
  });
}

async function startZooKeeper(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [`tickTime=2000`, `dataDir=${join(dir, 'data')}`, `clientPort=${port}`, `clientPortAddress=127.0.0.1`, `admin.enableServer=false`, `4lw.commands.whitelist=ruok`, ''].join('\n'),
  );
  if (!existsSync(join(ZK_BIN, 'zkServer.sh'))) throw new Error(`${ZK_BIN}/zkServer.sh missing: apt-get install zookeeper`);
  const child = spawn(join(ZK_BIN, 'zkServer.sh'), ['start-foreground', cfg], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ZOOCFGDIR: dir, ZOO_LOG_DIR: dir, ZOO_LOG4J_PROP: 'WARN,CONSOLE' },
  });
  const deadline = Date.now() + 60_000;
  while (!(await ruok(port))) {
    if (child.exitCode !== null) throw new Error(`ZooKeeper exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('ZooKeeper did not answer ruok within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port };
}

async function stopZooKeeper(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

function createTree(port: number, tree: Znode[]): void {
  const script = tree.map((z) => (z.data === null ? `create ${z.path}` : `create ${z.path} '${z.data}'`)).join('\n') + '\nquit\n';
  const r = spawnSync(join(ZK_BIN, 'zkCli.sh'), ['-server', `127.0.0.1:${port}`], { input: script, encoding: 'utf8', timeout: 120_000 });
  const created = (`${r.stdout}\n${r.stderr}`.match(/^Created \S+$/gm) ?? []).length;
  if (created !== tree.length) throw new Error(`zkCli.sh created ${created} of ${tree.length} znodes:\n${r.stdout}\n${r.stderr}`);
}

function runConfd(confd: string, port: number, work: string, runDir: string): { code: number | null; output: Buffer | undefined; errors: string[] } {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'conf.d'), { recursive: true });
  mkdirSync(join(work, 'templates'));
  mkdirSync(join(work, 'out'));
  const dest = join(work, 'out', 'result');
  const keys = JSON.parse(readFileSync(join(runDir, 'keys.json'), 'utf8')) as string[];
  writeFileSync(join(work, 'conf.d', 'run.toml'), `[template]\nsrc = "template.tmpl"\ndest = ${JSON.stringify(dest)}\nkeys = ${JSON.stringify(keys)}\n`);
  copyFileSync(join(runDir, 'template.tmpl'), join(work, 'templates', 'template.tmpl'));
  const args = ['-onetime', '-backend', 'zookeeper', '-node', `127.0.0.1:${port}`, '-confdir', work, '-config-file', join(work, 'absent.toml')];
  const prefixFile = join(runDir, 'prefix.txt');
  if (existsSync(prefixFile)) args.push('-prefix', readFileSync(prefixFile, 'utf8').trim());
  const r = spawnSync(confd, args, { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8', timeout: 60_000 });
  const errors = `${r.stdout}${r.stderr}`
    .split('\n')
    .map((line) => /^\S+ \S+ \S+\[\d+\]: ERROR (.*)$/.exec(line)?.[1])
    .filter((m): m is string => m !== undefined)
    .map((m) => m.split(work).join(CONFDIR_PLACEHOLDER));
  return { code: r.status, output: existsSync(dest) ? readFileSync(dest) : undefined, errors };
}

async function main(): Promise<void> {
  const confd = process.argv[2];
  if (confd === undefined) {
    process.stderr.write('usage: generate.ts /path/to/confd\n');
    process.exit(2);
  }
  const tree = readTree();
  const root = mkdtempSync(join(tmpdir(), 'confd-zk-golden-'));
  const zk = await startZooKeeper(join(root, 'zk'));
  try {
    createTree(zk.port, tree);
    for (const name of readdirSync(join(here, 'runs')).sort()) {
      const runDir = join(here, 'runs', name);
      const r = runConfd(confd, zk.port, join(root, 'w'), runDir);
      rmSync(join(runDir, 'expected.out'), { force: true });
      rmSync(join(runDir, 'expected.err'), { force: true });
      if (r.code === 0 && r.output !== undefined && r.errors.length === 0) writeFileSync(join(runDir, 'expected.out'), r.output);
      else if (r.code !== 0 && r.errors.length > 0) writeFileSync(join(runDir, 'expected.err'), `${r.errors[0]}\n`);
      else throw new Error(`${name}: unexpected confd result (exit ${r.code}, errors ${JSON.stringify(r.errors)})`);
      process.stdout.write(`${name}: ${r.code === 0 ? 'expected.out' : 'expected.err'}\n`);
    }
  } finally {
    await stopZooKeeper(zk.child);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
