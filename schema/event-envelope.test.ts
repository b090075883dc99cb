import { describe, expect, test } from 'vitest';
import {
  describeIssues,
  eventInputSchema,
  parseEnvelope,
  MAX_ENVELOPE_BYTES,
} from './event-envelope.ts';

const app = {
  id: 'e1',
  type: 'app',
  platform: 'app',
  accountId: 'a1',
  occurredAt: '2026-01-01T00:00:00Z',
  name: 'open',
};

function reason(event: unknown): string | null {
  const parsed = eventInputSchema.safeParse(event);
  return parsed.success ? null : describeIssues(parsed.error);
}

describe('the envelope refuses at the door what a store would refuse or alter', () => {
  test('a bad map key says which key and why, escaped', () => {
    expect(reason({ ...app, properties: { 'k\u0000': 1 } })).toBe(
      'properties."k\\u0000": key U+0000 (NUL) at position 1: a name holds no control characters',
    );
    expect(reason({ ...app, properties: { ['\ud800']: 'x' } })).toMatch(
      /^properties\."\\ud800": key unpaired surrogate U\+D800/,
    );
  });

  test('__proto__ is refused rather than silently dropped', () => {
    expect(reason({ ...app, properties: JSON.parse('{"__proto__": "x"}') as unknown })).toBe(
      'properties: the key __proto__ is reserved',
    );
  });

  test('numbers are finite: 1e999 parses as Infinity and is refused', () => {
    const audience: unknown = JSON.parse(
      '{"id":"e","type":"audience","platform":"x","accountId":"a","occurredAt":"2026-01-01T00:00:00Z","age":{"18-24":1e999}}',
    );
    expect(reason(audience)).toMatch(/^age\.18-24: /);
    expect(reason({ ...app, properties: { n: Number.POSITIVE_INFINITY } })).toMatch(/^properties/);
  });

  test('instants must be ones the event store holds', () => {
    expect(reason({ ...app, occurredAt: '1900-01-01T00:00:00Z' })).toBeNull();
    expect(reason({ ...app, occurredAt: '2299-12-31T23:59:59.999Z' })).toBeNull();
    expect(reason({ ...app, occurredAt: '1900-01-01T00:30:00+01:00' })).toMatch(/outside 1900/);
    expect(reason({ ...app, occurredAt: '2300-01-01T00:00:00Z' })).toMatch(/outside 1900/);
    // A bad format is one reason, not two.
    expect(reason({ ...app, occurredAt: 'yesterday' })).toBe('occurredAt: Invalid ISO datetime');
  });

  test('text keeps tabs, newlines, bidi and emoji; only NUL and lone surrogates are refused', () => {
    const comment = { ...app, type: 'comment', kind: 'comment', commentId: 'c1' };
    expect(reason({ ...comment, text: 'a\tb\r\n\u202e👩‍👩‍👧‍👦\u0007' })).toBeNull();
    expect(reason({ ...comment, text: 'a\u0000' })).toMatch(/^text: U\+0000 \(NUL\)/);
  });

  test('a bus message over the size bound is refused before it is parsed', () => {
    const parsed = parseEnvelope(' '.repeat(MAX_ENVELOPE_BYTES + 1));
    expect(parsed).toEqual({ ok: false, reason: `message exceeds ${MAX_ENVELOPE_BYTES} bytes` });
  });
});
