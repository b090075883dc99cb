// The stored events' answer to a series query (series.sql.ts), as one value per metric, group
// and bucket, before the live tail is merged and the series are assembled (metrics.store.ts).
import type { Olap } from '../../lib/olap/olap.port.ts';
import { seriesSql, type SeriesQuery, type SeriesRow } from './series.sql.ts';

/**
 * One value of a metric for a group in a bucket (`at`), the distinct users over the whole range
 * (`at` -1), or the level just before the range (`at` -2). Values of one key add up.
 */
export interface Value {
  metric: string;
  g: string;
  at: number;
  value: number;
}

export interface StoredValues {
  values: Value[];
  /** Event time of the newest stored event in the range, or null when there is none. */
  newestEventAt: number | null;
}

export async function readStoredValues(olap: Olap, q: SeriesQuery): Promise<StoredValues> {
  const { sql, params } = seriesSql(q);
  const found = await olap.query<SeriesRow>(sql, params);
  const values: Value[] = [];
  let newestEventAt: number | null = null;
  const wanted = new Set<string>(q.metrics);
  for (const row of found) {
    if (row.kind === 'newest') {
      newestEventAt = row.at;
      continue;
    }
    const { metric, g, at } = row;
    if (wanted.has(metric) && at !== -1)
      values.push({ metric, g, at, value: row.delta + row.level });
    if (metric === 'app_events' && wanted.has('unique_users')) {
      values.push({ metric: 'unique_users', g, at, value: row.users });
    }
  }
  return { values, newestEventAt };
}
