/**
 * The real-Patroni harness itself (test/harness/patroni.ts), for what later tests build on:
 * kill -9 of the leader (Patroni and its postmaster) leads to a new leader after the lease, the
 * killed node's Postgres is really gone, and start() brings the node back as a replica.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdInstance } from '../harness/etcd.js';
import { psql, startPatroniCluster, type PatroniCluster } from '../harness/patroni.js';

let etcd: EtcdInstance | undefined;
let cluster: PatroniCluster | undefined;

after(async () => {
  await cluster?.stop().catch(() => undefined);
  await etcd?.stop().catch(() => undefined);
});

test('kill9 of the leader: new leader after the lease, old postmaster gone, start() rejoins as a replica', { timeout: 900_000 }, async () => {
  etcd = await startEtcd('e2e-harness');
  cluster = await startPatroniCluster({ etcd, scope: 'harness', nodes: 3 });
  console.log(`# 3-node bootstrap: ${cluster.bootstrapMs} ms`);
  assert.ok(cluster.bootstrapMs < 60_000);
  const old = await cluster.leader();
  const node = cluster.node(old);
  assert.equal(await psql(node.pgPort, 'select pg_is_in_recovery()'), 'f');

  const t0 = Date.now();
  await node.kill9();
  assert.equal(node.running(), false);
  await assert.rejects(psql(node.pgPort, 'select 1', 5000), 'the killed node still answers SQL');
  const next = await cluster.waitForLeader(40_000, old);
  console.log(`# kill -9 → new leader ${next}: ${Date.now() - t0} ms`);
  assert.notEqual(next, old);
  assert.equal(await psql(cluster.node(next).pgPort, 'select pg_is_in_recovery()'), 'f');

  await node.start();
  await cluster.waitForReplicas(2, 90_000);
  assert.equal(await psql(node.pgPort, 'select pg_is_in_recovery()'), 't');
  assert.equal(await cluster.leader(), next);
});
