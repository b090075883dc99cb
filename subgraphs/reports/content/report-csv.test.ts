import { describe, expect, test } from 'vitest';
import { sampleReport } from './report-data.fixture.ts';
import { CSV_COLUMNS, renderCsv } from './report-csv.ts';

/** RFC 4180: CRLF records, fields optionally in double quotes, "" for a quote inside them. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') {
      throw new Error(`a bare line break outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('an unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('the last record has no CRLF');
  return records;
}

describe('renderCsv', () => {
  for (const zone of ['America/Los_Angeles', 'Asia/Kolkata']) {
    test(`parses back: header, a row per account × metric × bucket, offsets in ${zone}`, () => {
      const data = sampleReport({ accounts: 3, metrics: 4, days: 7, timeZone: zone });
      const [header, ...rows] = parseCsv(renderCsv(data).toString('utf8'));
      expect(header).toEqual([...CSV_COLUMNS]);
      expect(rows.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
      const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
      const series = rows.filter((r) => r[col('section')] === 'series');
      expect(series).toHaveLength(3 * 4 * 7);
      const keys = new Set(series.map((r) => `${r[1]}|${r[3]}|${r[4]}`));
      expect(keys.size).toBe(series.length);
      for (const s of data.summaries) {
        for (const b of s.buckets) {
          const row = series.find(
            (r) =>
              r[col('account_id')] === s.accountId &&
              r[col('metric')] === s.metric &&
              Date.parse(r[col('bucket_start')]!) === b.start,
          );
          expect(row?.[col('value')]).toBe(String(b.value));
          expect(Date.parse(row![col('bucket_end')]!)).toBe(b.end);
        }
      }
      const offset = zone === 'Asia/Kolkata' ? /\+05:30$/ : /-0[78]:00$/;
      for (const r of rows.filter((r) => r[col('section')] !== 'post')) {
        expect(r[col('bucket_start')]).toMatch(/^\d{4}-\d\d-\d\dT00:00:00[+-]\d\d:\d\d$/);
        expect(r[col('bucket_start')]).toMatch(offset);
        expect(r[col('bucket_start')]).not.toMatch(/Z$/);
      }
      if (zone === 'America/Los_Angeles') {
        // 29 Oct .. 5 Nov: the days after 1 November are in PST.
        expect(series.map((r) => r[col('bucket_start')])).toContain('2026-11-02T00:00:00-08:00');
        expect(series.map((r) => r[col('bucket_start')])).toContain('2026-10-30T00:00:00-07:00');
      }
      const totals = rows.filter((r) => r[col('section')] === 'total');
      expect(totals).toHaveLength(3 * 4);
      const first = data.summaries[0]!;
      expect(totals[0]?.slice(col('value'), col('change') + 1)).toEqual([
        String(first.total),
        String(first.previousTotal),
        String(first.change),
      ]);
    });
  }

  test('a post content with commas, quotes and new lines comes back unchanged', () => {
    const data = sampleReport();
    const text = renderCsv(data).toString('utf8');
    const content = data.topPosts[0]!.content;
    expect(content).toMatch(/,/);
    expect(content).toMatch(/"/);
    expect(content).toMatch(/\n/);
    expect(text).toContain(`"${content.replaceAll('"', '""')}"`);
    const rows = parseCsv(text).filter((r) => r[0] === 'post');
    expect(rows).toHaveLength(data.topPosts.length);
    expect(rows[0]?.[CSV_COLUMNS.indexOf('content')]).toBe(content);
    expect(rows[0]?.[CSV_COLUMNS.indexOf('alt_text')]).toBe(data.topPosts[0]!.altText);
    expect(rows[0]?.[CSV_COLUMNS.indexOf('published_at')]).toBe('2026-10-29T07:00:00-07:00');
  });
});
