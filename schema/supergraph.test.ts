import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { composeSupergraph, SUPERGRAPH_PATH } from './compose.ts';

test('the checked-in supergraph equals a fresh composition (run `npm run compose`)', async () => {
  const checkedIn = await readFile(SUPERGRAPH_PATH, 'utf8');
  expect(checkedIn).toBe(await composeSupergraph());
});
