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
