// Readiness names each check that failed, and a check that hangs counts as failed in time.
import { expect, test } from 'vitest';
import { readinessOf } from './ops-routes.ts';

test('each check reports ok or why not, and a hung one fails after its timeout', async () => {
  const ready = readinessOf({
    fine: async () => 1,
    down: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    hung: () => new Promise(() => undefined),
  });
  const started = Date.now();
  expect(await ready()).toEqual({
    fine: 'ok',
    down: 'connect ECONNREFUSED 127.0.0.1:6379',
    hung: 'no answer within 2000 ms',
  });
  expect(Date.now() - started).toBeLessThan(3_000);
});
