import { expect, test } from 'vitest';
import { isStoreUnavailable, StoreUnavailableError } from './store-errors.ts';

test('an unavailable store is recognised through wrapping errors, nothing else is', () => {
  const down = new StoreUnavailableError('Redis', 'Redis at 127.0.0.1:6379 is not connected');
  expect(isStoreUnavailable(down)).toBe(true);
  expect(isStoreUnavailable(new Error('batch failed', { cause: down }))).toBe(true);
  expect(isStoreUnavailable(new Error('WRONGTYPE'))).toBe(false);
  expect(isStoreUnavailable(new Error('outer', { cause: new Error('inner') }))).toBe(false);
  expect(isStoreUnavailable('a string')).toBe(false);
});
