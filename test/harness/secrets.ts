/**
 * Planted test passwords and the check that none of them reaches what haconfd prints: every test
 * that plants one passes the text it collected (log lines, stderr, stdout, /readyz bodies) here.
 */
import assert from 'node:assert/strict';

/** Distinctive enough never to occur by chance. */
export const PLANTED = {
  node: 'NodePw-7Kq2x',
  toml: 'TomlPw-3Zr8v',
  env: 'EnvPw-9Hs4m',
  member: 'S3cr3t MemberPw',
  memberWord: 'MemberPw',
  api: 'ApiPw-5Tn1c',
} as const;

/** Fails naming the secret and the line it leaked in. */
export function assertNoSecrets(what: string, text: string, secrets: readonly string[] = Object.values(PLANTED)): void {
  for (const s of secrets) {
    const line = text.split('\n').find((l) => l.includes(s));
    assert.equal(line, undefined, `${what}: planted secret ${JSON.stringify(s)} leaked in: ${line}`);
  }
}

/** Leaks found in any haconfd output of this test process (startCli / runCli scan every run). */
const leaks: string[] = [];

/**
 * Scans one haconfd run's output for every planted secret. Called by test/harness/cli.ts for every
 * CLI run of the suite; a leak fails the test process at exit (and is reported at once).
 */
export function scanForPlanted(what: string, text: string): void {
  for (const s of Object.values(PLANTED)) {
    const line = text.split('\n').find((l) => l.includes(s));
    if (line !== undefined) {
      const msg = `planted secret ${JSON.stringify(s)} leaked in ${what}: ${line.slice(0, 500)}`;
      leaks.push(msg);
      process.stderr.write(`SECRET LEAK: ${msg}\n`);
    }
  }
}

process.once('exit', () => {
  if (leaks.length > 0) {
    process.stderr.write(`${leaks.length} planted secret(s) leaked into haconfd output:\n${leaks.join('\n')}\n`);
    process.exitCode = 1;
  }
});
