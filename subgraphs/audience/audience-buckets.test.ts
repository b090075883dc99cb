import { describe, expect, test } from 'vitest';
import { bucketChanges, toBuckets } from './audience-buckets.ts';

describe('toBuckets', () => {
  test('without a follower count every bucket is suppressed, unless the minimum is 0', () => {
    expect(toBuckets({ a: 1, b: 3 }, null, 100).map((b) => b.suppressed)).toEqual([true, true]);
    expect(toBuckets({ a: 1, b: 3 }, null, 0)).toEqual([
      { key: 'b', value: 3, share: 0.75, count: null, suppressed: false },
      { key: 'a', value: 1, share: 0.25, count: null, suppressed: false },
    ]);
  });

  test('a dimension summing to 0 has shares and counts of 0, suppressed at any minimum', () => {
    expect(toBuckets({ a: 0 }, 5000, 1)).toEqual([
      { key: 'a', value: null, share: null, count: null, suppressed: true },
    ]);
  });
});

describe('bucketChanges', () => {
  test('a bucket on one side only, or suppressed on either, has no change', () => {
    const before = toBuckets({ a: 500, b: 50, gone: 450 }, 1000, 100);
    const after = toBuckets({ a: 600, b: 300, new: 100 }, 1000, 100);
    expect(bucketChanges(before, after).map((c) => [c.key, c.valueChange, c.countChange])).toEqual([
      ['a', 100, 100],
      ['b', null, null],
      ['new', null, null],
      ['gone', null, null],
    ]);
  });
});
