/**
 * The shutdown watch against a real PostgreSQL 15: Patroni's fast stop (SIGINT to the postmaster)
 * and an immediate one (SIGQUIT) are seen as the watching connection closed by the server; a watch
 * lives through renewals past authentication_timeout without a false sighting, and Postgres logs
 * nothing for it; a stopped Postgres is seen as a refused connection; an ended watch sees nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ShutdownWatches, type ShutdownSeen, type WatchTarget } from '../../src/haproxy/controller/shutdownWatch.js';
import { startPostgres } from '../harness/postgres.js';
import { waitFor } from '../harness/process.js';

function watches(renewMs: number): { w: ShutdownWatches; seen: ShutdownSeen[] } {
  const seen: ShutdownSeen[] = [];
  const w = new ShutdownWatches({ connectTimeoutMs: 5000, renewMs, now: Date.now, onSeen: (s) => seen.push(s) });
  return { w, seen };
}

const target = (cluster: string, port: number): WatchTarget => ({ cluster, leader: 'pg1', host: '127.0.0.1', port });

describe('shutdown watch (real PostgreSQL 15)', { timeout: 180_000 }, () => {
  for (const mode of ['fast', 'immediate'] as const) {
    test(`${mode === 'fast' ? 'a fast' : 'an immediate'} shutdown is seen at once as the connection closed by the server; renewals past authentication_timeout are no sighting; an ended watch sees nothing`, async () => {
      const pg = await startPostgres({ authentication_timeout: '1s' });
      const { w, seen } = watches(200);
      try {
        w.want([target('a', pg.port), target('b', pg.port)]);
        // Positive signal that time passed with the watches live: renewals beyond the 1 s authentication_timeout.
        await waitFor('watch renewals past authentication_timeout', () => w.established('b') >= 8, 30_000, 20);
        assert.equal(seen.length, 0, 'no sighting while Postgres runs');
        w.want([target('b', pg.port)]); // 'a' no longer wanted: ended by us
        const signalled = Date.now();
        await pg.stop(mode);
        await waitFor('the shutdown seen', () => seen.length > 0, 10_000, 5);
        assert.deepEqual(seen.map((s) => [s.cluster, s.leader, s.how]), [['b', 'pg1', 'closed by the server']]);
        assert.ok((seen[0] as ShutdownSeen).at >= signalled);
        assert.deepEqual([...w.seen().keys()], ['b']);
        assert.doesNotMatch(pg.log(), /incomplete startup packet|canceling authentication due to timeout/, 'Postgres logs nothing for the watch');
        process.stderr.write(`# ${mode} shutdown seen ${(seen[0] as ShutdownSeen).at - signalled} ms after the signal to the postmaster\n`);

        // Postgres gone: a new watch is refused at once.
        const late = watches(10_000);
        late.w.want([target('c', pg.port)]);
        await waitFor('the refusal seen', () => late.seen.length > 0, 10_000, 5);
        assert.equal(late.seen[0]?.how, 'connection refused');
        late.w.endAll();
      } finally {
        w.endAll();
        await pg.close();
      }
    });
  }
});
