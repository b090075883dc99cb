// The remembered zone offsets and the fast local ISO format agree with luxon reading the runtime's
// rules directly, every 37 minutes and 13 ms through 2026, in zones with DST changes of an hour
// and of half an hour, and offsets at :30 and :45.
import { DateTime } from 'luxon';
import { describe, expect, test } from 'vitest';
import { floorBucket, localIso, nextBucket } from './zoned-buckets.ts';

const ZONES = [
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
  'UTC',
];
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2027-01-01T00:00:00Z');

describe('zoned buckets', () => {
  for (const zone of ZONES) {
    test(`local times and day buckets in ${zone} match luxon's own`, () => {
      const wrong: string[] = [];
      for (let ms = FROM; ms < TO; ms += 37 * 60_000 + 13) {
        const at = DateTime.fromMillis(ms, { zone });
        const iso = localIso(ms, zone);
        if (iso !== at.toISO({ includeOffset: true })) wrong.push(`${ms}: ${iso}`);
        const day = at.startOf('day');
        if (floorBucket(ms, 'day', zone) !== day.toMillis()) wrong.push(`${ms}: day`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }

  test('a 23-hour and a 25-hour day in Los Angeles', () => {
    const zone = 'America/Los_Angeles';
    const length = (iso: string) => {
      const start = floorBucket(Date.parse(iso), 'day', zone);
      return (nextBucket(start, 'day', zone) - start) / 3_600_000;
    };
    expect(length('2026-03-08T12:00:00Z')).toBe(23);
    expect(length('2026-11-01T12:00:00Z')).toBe(25);
    expect(length('2026-11-02T12:00:00Z')).toBe(24);
  });
});
