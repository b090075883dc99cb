// Re-scores stored texts with a (new) sentiment scorer: reads the latest revision of every text
// that another scorer (or version) scored, in pages by (org, id), scores each page in batches and
// writes it to the texts table and the search index again at its own version. The rewrite wins
// over the old row by `scored_at` and never over a newer revision, so it is safe beside the
// running pipeline; texts already scored by this scorer are skipped, so a stopped run resumes.
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import type { SearchIndex } from '../../lib/search/search.port.ts';
import {
  scoreTexts,
  writeTexts,
  type TextRow,
  type TextScoring,
  type UnscoredText,
} from './text.consumer.ts';

export interface RescoreOptions {
  olap: Olap;
  search: SearchIndex;
  sentiment: TextScoring;
  /** Only this organisation's texts; every organisation's when omitted. */
  orgId?: string;
  /** Re-score texts this scorer and version already scored too. */
  all?: boolean;
  /** Texts read and written per round trip. */
  pageSize?: number;
  /** Told after every page. */
  onProgress?: (progress: RescoreProgress) => void;
}

export interface RescoreProgress {
  /** Texts re-scored so far. */
  done: number;
  /** Texts to re-score, counted when the run started (the pipeline may add more). */
  total: number;
  /** Texts the search index refused; the texts table has their new scores all the same. */
  refused: number;
}

interface StoredRow {
  org_id: string;
  id: string;
  kind: TextRow['kind'];
  account_id: string;
  platform: string;
  post_id: string;
  author_handle: string;
  text: string;
  /** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
  at_ms: number | string;
  version_ms: number | string;
}

/** The latest revision of each text after the (org, id) key, of the chosen organisation. */
const LATEST = `
  SELECT org_id, id, kind, account_id, platform, post_id, author_handle, text, scorer,
         scorer_version, toUnixTimestamp64Milli(at) AS at_ms,
         toUnixTimestamp64Milli(version) AS version_ms
  FROM texts
  WHERE ({org:String} = '' OR org_id = {org:String}) AND (org_id, id) > ({afterOrg:String}, {afterId:String})
  ORDER BY org_id, id, version DESC, scored_at DESC
  LIMIT 1 BY org_id, id`;

const STALE = `({all:Bool} OR NOT (scorer = {name:String} AND scorer_version = {version:String}))`;

export async function rescoreTexts(options: RescoreOptions): Promise<RescoreProgress> {
  const { olap, search, sentiment, orgId = '', all = false, pageSize = 1000, onProgress } = options;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  const base: OlapParams = {
    org: orgId,
    all,
    name: sentiment.scorer.name,
    version: sentiment.scorer.version,
  };
  const [counted] = await olap.query<{ n: number | string }>(
    `SELECT count() AS n FROM (${LATEST}) WHERE ${STALE}`,
    { ...base, afterOrg: '', afterId: '' },
  );
  const progress: RescoreProgress = { done: 0, total: Number(counted?.n ?? 0), refused: 0 };
  let after = { org: '', id: '' };
  for (;;) {
    const rows = await olap.query<StoredRow>(
      `SELECT * EXCEPT (scorer, scorer_version) FROM (${LATEST}) WHERE ${STALE}
       ORDER BY org_id, id LIMIT {limit:UInt32}`,
      { ...base, afterOrg: after.org, afterId: after.id, limit: pageSize },
    );
    const last = rows.at(-1);
    if (!last) break;
    const texts = rows.map((r): UnscoredText => ({
      org_id: r.org_id,
      id: r.id,
      kind: r.kind,
      account_id: r.account_id,
      platform: r.platform,
      post_id: r.post_id,
      author_handle: r.author_handle,
      text: r.text,
      at: Number(r.at_ms),
      version: Number(r.version_ms),
    }));
    const refused = await writeTexts(olap, search, await scoreTexts(texts, sentiment));
    progress.done += rows.length;
    progress.refused += refused.length;
    onProgress?.({ ...progress });
    after = { org: last.org_id, id: last.id };
  }
  return progress;
}
