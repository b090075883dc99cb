import { describe, expect, test } from 'vitest';
import { breakouts, landscapeStat, percentileRanks, share } from './benchmark-stats.ts';

describe('percentile ranks', () => {
  test('the share of the other members below, ties counting half', () => {
    expect(percentileRanks([10, 30, 20, 40])).toEqual([0, 200 / 3, 100 / 3, 100]);
    expect(percentileRanks([5, 5, 1])).toEqual([75, 75, 0]);
  });
  test('null for a missing figure, and when nothing else has one', () => {
    expect(percentileRanks([null, 2, 1])).toEqual([null, 100, 0]);
    expect(percentileRanks([3, null])).toEqual([null, null]);
    expect(percentileRanks([])).toEqual([]);
  });
});

test('landscape average and median over the known figures', () => {
  expect(landscapeStat([4, 1, null, 3])).toEqual({ average: 8 / 3, median: 3 });
  expect(landscapeStat([4, 1, 2, 3])).toEqual({ average: 2.5, median: 2.5 });
  expect(landscapeStat([null])).toEqual({ average: null, median: null });
});

test('a share is null when the whole is 0', () => {
  expect(share(1, 4)).toBe(0.25);
  expect(share(0, 0)).toBeNull();
});

describe('breakouts', () => {
  const post = (id: string, value: number, group = 'instagram') => ({ id, group, value });
  const usual = [10, 12, 8, 11, 9, 10].map((v, i) => post(`p${i}`, v));

  test('an outlier against the other posts of its group, with mean, deviation and z', () => {
    const found = breakouts([...usual, post('big', 100), post('other', 1000, 'x')], 5, 5);
    expect(found.map((b) => b.post.id)).toEqual(['big']);
    const others = usual.map((p) => p.value);
    const mean = others.reduce((a, b) => a + b, 0) / others.length;
    const sd = Math.sqrt(others.reduce((a, b) => a + (b - mean) ** 2, 0) / others.length);
    expect(found[0]!.comparablePosts).toBe(6);
    expect(found[0]!.mean).toBeCloseTo(mean, 12);
    expect(found[0]!.standardDeviation).toBeCloseTo(sd, 12);
    expect(found[0]!.zScore).toBeCloseTo((100 - mean) / sd, 9);
  });
  test('none above a large k, with too few comparable posts, or without spread', () => {
    expect(breakouts([...usual, post('big', 100)], 1000, 5)).toEqual([]);
    expect(breakouts([...usual, post('big', 100)], 5, 7)).toEqual([]);
    const flat = [1, 2, 3, 4, 5, 6].map((i) => post(`f${i}`, 7));
    expect(breakouts([...flat, post('big', 100)], 5, 5)).toEqual([]);
  });
});
