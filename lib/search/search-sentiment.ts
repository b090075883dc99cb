// A sentiment filter as score ranges, the same for every search adapter and for comment reads.
import type { OlapParams } from '../olap/olap.port.ts';
import { classRanges, type ScoreRange } from '../sentiment/sentiment-class.ts';
import type { SentimentFilter } from './search.port.ts';

/**
 * The score ranges a filter admits (a text matches when its score is in any of them): null when
 * the filter admits every score, an empty list when it admits none. Bounds are inclusive.
 */
export function sentimentRanges(filter: SentimentFilter | undefined): ScoreRange[] | null {
  if (!filter) return null;
  const { classes, min, max } = filter;
  if (classes === undefined && min === undefined && max === undefined) return null;
  const base: ScoreRange[] = classes === undefined ? [{}] : classRanges(classes);
  return base.flatMap((r) => {
    const lo = maxOf(r.min, min);
    const hi = minOf(r.max, max);
    if (lo !== undefined && hi !== undefined && lo > hi) return [];
    return [{ ...(lo !== undefined && { min: lo }), ...(hi !== undefined && { max: hi }) }];
  });
}

const maxOf = (a?: number, b?: number) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);
const minOf = (a?: number, b?: number) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/**
 * The ranges as a ClickHouse condition on a Float32 column, bounds cast to Float32 so a stored
 * 0.3 is ≤ 0.3 (as Elasticsearch compares a float field); `params` receives the bounds.
 */
export function sentimentSql(
  column: string,
  ranges: readonly ScoreRange[],
  params: OlapParams,
): string {
  if (ranges.length === 0) return '0';
  const parts = ranges.map((r, i) => {
    const conditions: string[] = [];
    if (r.min !== undefined) {
      params[`smin${i}`] = r.min;
      conditions.push(`${column} >= toFloat32({smin${i}:Float64})`);
    }
    if (r.max !== undefined) {
      params[`smax${i}`] = r.max;
      conditions.push(`${column} <= toFloat32({smax${i}:Float64})`);
    }
    return conditions.length > 0 ? `(${conditions.join(' AND ')})` : '1';
  });
  return `(${parts.join(' OR ')})`;
}
