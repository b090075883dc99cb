// The report as one RFC 4180 table (csv-stringify, CRLF, a header row): a row per account, metric
// and bucket (`series`), a row per account and metric for the range (`total`, with the previous
// period and the change), then a row per top post (`post`). Times are ISO 8601 with the zone's
// offset, so a spreadsheet shows the organisation's local days.
import { stringify } from 'csv-stringify/sync';
import type { ReportData } from './report-data.ts';
import { isoWithOffset } from './report-format.ts';

export const CSV_COLUMNS = [
  'section',
  'account_id',
  'platform',
  'metric',
  'bucket_start',
  'bucket_end',
  'value',
  'previous_value',
  'change',
  'change_percent',
  'post_id',
  'published_at',
  'content',
  'alt_text',
] as const;

type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | number>>;

export function renderCsv(data: ReportData): Buffer {
  const iso = (ms: number) => isoWithOffset(ms, data.timeZone);
  const platformOf = new Map(data.accounts.map((a) => [a.id, a.platform]));
  const rows: Row[] = [];
  for (const s of data.summaries) {
    const base = {
      account_id: s.accountId,
      platform: platformOf.get(s.accountId),
      metric: s.metric,
    };
    for (const b of s.buckets) {
      rows.push({
        section: 'series',
        ...base,
        bucket_start: iso(b.start),
        bucket_end: iso(b.end),
        value: b.value,
      });
    }
  }
  for (const s of data.summaries) {
    rows.push({
      section: 'total',
      account_id: s.accountId,
      platform: platformOf.get(s.accountId),
      metric: s.metric,
      bucket_start: iso(data.range.from),
      bucket_end: iso(data.range.to),
      value: s.total,
      previous_value: s.previousTotal,
      change: s.change,
      change_percent: s.changePercent === null ? '' : Number(s.changePercent.toFixed(4)),
    });
  }
  for (const p of data.topPosts) {
    rows.push({
      section: 'post',
      account_id: p.accountId,
      platform: p.platform,
      metric: 'engagements',
      value: p.engagements,
      post_id: p.id,
      published_at: iso(p.publishedAt),
      content: p.content,
      alt_text: p.altText,
    });
  }
  return Buffer.from(
    stringify(rows, {
      header: true,
      columns: [...CSV_COLUMNS],
      record_delimiter: '\r\n',
    }),
    'utf8',
  );
}
