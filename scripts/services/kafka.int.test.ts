// The cluster id against the real StorageTool and broker: an id that starts with '-' (which the
// tool once read as a flag) formats and starts, and a saved id that is not a KRaft id is replaced.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { freePorts } from '../../test/support/free-ports.ts';
import { kafkaCluster, type KafkaCluster } from './kafka.ts';

let dir = '';
let cluster: KafkaCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function clusterWithSavedId(savedId: string, log: (line: string) => void = () => {}) {
  dir = mkdtempSync(join(tmpdir(), 'loupe-kafka-id-'));
  writeFileSync(join(dir, 'cluster-id'), savedId);
  cluster = kafkaCluster({ dir, basePort: await freePorts(2), heapMb: 256, log });
  return cluster;
}

const formattedId = (): string | undefined =>
  /^cluster\.id=(.*)$/m.exec(
    readFileSync(join(dir, 'node-1', 'data', 'meta.properties'), 'utf8'),
  )?.[1];

test("formats and starts a node whose saved cluster id starts with '-'", async () => {
  const id = '-kPZ3yOqSjm0lXbN2wT7vA';
  const kafka = await clusterWithSavedId(id);
  await kafka.start();
  expect(formattedId()).toBe(id);
  await kafka.ready(90_000);
  expect(readFileSync(join(dir, 'cluster-id'), 'utf8').trim()).toBe(id);
}, 120_000);

test('replaces a saved cluster id that is not a KRaft id before formatting, and says so', async () => {
  const lines: string[] = [];
  const kafka = await clusterWithSavedId('not a cluster id\n', (line) => lines.push(line));
  await kafka.start();
  const saved = readFileSync(join(dir, 'cluster-id'), 'utf8').trim();
  expect(saved).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  expect(formattedId()).toBe(saved);
  expect(lines).toEqual([expect.stringMatching(/cluster id "not a cluster id".*new one/)]);
}, 120_000);
