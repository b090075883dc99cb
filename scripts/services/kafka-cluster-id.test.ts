import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { isClusterId, newClusterId, savedClusterId } from './kafka-cluster-id.ts';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a new id is a KRaft id and never starts with '-', however the bytes fall", () => {
  // 0xf8 in the first byte encodes as '-' first: such draws are skipped.
  const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0x41)];
  const id = newClusterId(() => draws.shift() ?? Buffer.alloc(16));
  expect(id).toBe(Buffer.alloc(16, 0x41).toString('base64url'));
  expect(draws).toEqual([]);
  for (let i = 0; i < 2000; i++) {
    const fresh = newClusterId();
    expect(isClusterId(fresh) && !fresh.startsWith('-')).toBe(true);
  }
});

test("a cluster id is 22 URL-safe base64 characters, as Kafka's Uuid parses", () => {
  expect(isClusterId('-kPZ3yOqSjm0lXbN2wT7vA')).toBe(true);
  // The example in Kafka's own documentation.
  expect(isClusterId('MkU3OEVBNTcwNTJENDM2Qk')).toBe(true);
  for (const bad of [
    '',
    'not a cluster id',
    'MkU3OEVBNTcwNTJENDM2Qg==',
    'MkU3OEVBNTcwNTJENDM2Q',
    'MkU3OEVBNTcwNTJENDM2Q+',
    'MkU3OEVBNTcwNTJENDM2QkA',
  ]) {
    expect(isClusterId(bad), bad).toBe(false);
  }
});

test('keeps a saved id, saves a new one when none, and replaces one that is not an id', () => {
  dir = mkdtempSync(join(tmpdir(), 'loupe-cluster-id-'));
  const file = join(dir, 'cluster-id');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  const first = savedClusterId(file, log);
  expect(readFileSync(file, 'utf8').trim()).toBe(first);
  expect(savedClusterId(file, log)).toBe(first);
  expect(lines).toEqual([]);

  writeFileSync(file, '');
  const replaced = savedClusterId(file, log);
  expect(isClusterId(replaced)).toBe(true);
  expect(readFileSync(file, 'utf8').trim()).toBe(replaced);
  expect(lines).toEqual([expect.stringMatching(/saved cluster id "" .* using a new one/)]);
});
