import { DateTime } from 'luxon';
import { describe, expect, test } from 'vitest';
import { rangeFor } from './report-range.ts';

const HOUR = 3_600_000;
const local = (ms: number, zone: string) =>
  DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true });

describe('rangeFor', () => {
  test('last_7_days across the end of DST in Los Angeles holds a 25-hour day', () => {
    const at = Date.parse('2026-11-04T15:20:00-08:00');
    const { range, previous } = rangeFor('last_7_days', at, 'America/Los_Angeles');
    expect(local(range.from, 'America/Los_Angeles')).toBe('2026-10-28T00:00:00-07:00');
    expect(local(range.to, 'America/Los_Angeles')).toBe('2026-11-04T00:00:00-08:00');
    expect(range.to - range.from).toBe(7 * 24 * HOUR + HOUR);
    expect(previous).toEqual({
      from: Date.parse('2026-10-21T00:00:00-07:00'),
      to: range.from,
    });
    expect(previous.to - previous.from).toBe(7 * 24 * HOUR);
  });

  test('last_30_days across the start of DST holds a 23-hour day', () => {
    const at = Date.parse('2026-03-20T00:00:00-07:00');
    const { range, previous } = rangeFor('last_30_days', at, 'America/Los_Angeles');
    expect(local(range.from, 'America/Los_Angeles')).toBe('2026-02-18T00:00:00-08:00');
    expect(range.to).toBe(at);
    expect(range.to - range.from).toBe(30 * 24 * HOUR - HOUR);
    expect(local(previous.from, 'America/Los_Angeles')).toBe('2026-01-19T00:00:00-08:00');
    expect(previous.to).toBe(range.from);
  });

  test('previous_month is the calendar month before, in each zone', () => {
    // 2026-03-01 01:00 in Kolkata is still February in Los Angeles.
    const at = Date.parse('2026-02-28T19:30:00Z');
    const kolkata = rangeFor('previous_month', at, 'Asia/Kolkata');
    expect(kolkata.range).toEqual({
      from: Date.parse('2026-02-01T00:00:00+05:30'),
      to: Date.parse('2026-03-01T00:00:00+05:30'),
    });
    expect(kolkata.previous).toEqual({
      from: Date.parse('2026-01-01T00:00:00+05:30'),
      to: Date.parse('2026-02-01T00:00:00+05:30'),
    });
    const la = rangeFor('previous_month', at, 'America/Los_Angeles');
    expect(la.range).toEqual({
      from: Date.parse('2026-01-01T00:00:00-08:00'),
      to: Date.parse('2026-02-01T00:00:00-08:00'),
    });
    expect(la.previous.from).toBe(Date.parse('2025-12-01T00:00:00-08:00'));
  });

  test('previous_month spanning a DST change is a whole local month', () => {
    const { range } = rangeFor(
      'previous_month',
      Date.parse('2026-04-10T12:00:00Z'),
      'America/Los_Angeles',
    );
    expect(local(range.from, 'America/Los_Angeles')).toBe('2026-03-01T00:00:00-08:00');
    expect(local(range.to, 'America/Los_Angeles')).toBe('2026-04-01T00:00:00-07:00');
    expect(range.to - range.from).toBe(31 * 24 * HOUR - HOUR);
  });

  test('an unknown zone is refused', () => {
    expect(() => rangeFor('last_7_days', 0, 'Mars/Olympus')).toThrow(/time zone/);
  });
});
