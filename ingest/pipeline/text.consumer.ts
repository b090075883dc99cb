// The text pipeline: post contents, comments and mentions from the bus, scored for sentiment in
// batches through the sentiment port, written to the OLAP `texts` table and to the search index,
// one batch each. Both writes are
// keyed by (org, id) and versioned by event time, so a redelivered or replayed batch changes
// nothing a reader sees, and an old revision replayed late never replaces a newer one.
import type { BusMessage } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { IndexRefusal, SearchIndex, TextDocument } from '../../lib/search/search.port.ts';
import { scoreInBatches } from '../../lib/sentiment/sentiment-class.ts';
import type { SentimentScorer } from '../../lib/sentiment/sentiment.port.ts';
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { dlq, type MessageOutcome, type PipelineStage } from './outcome.ts';
import { readEnvelope } from './read-envelope.ts';

export interface TextScoring {
  scorer: SentimentScorer;
  /** Texts per scorer call (`LOUPE_SENTIMENT_BATCH_SIZE`). */
  batchSize: number;
}

export interface TextConsumerDeps {
  olap: Olap;
  search: SearchIndex;
  sentiment: TextScoring;
  logger?: Logger;
}

export type TextConsumer = PipelineStage;

/** A row of the `texts` table (schema/clickhouse/013_texts.sql). */
export interface TextRow {
  org_id: string;
  id: string;
  kind: 'post' | 'comment' | 'mention';
  account_id: string;
  platform: string;
  post_id: string;
  author_handle: string;
  text: string;
  sentiment: number;
  scorer: string;
  scorer_version: string;
  /** Epoch ms; among rows of one version the latest scored wins (a re-score). */
  scored_at: number;
  /** Epoch ms: published (posts) or occurred (comments, mentions). */
  at: number;
  /** Epoch ms of the event: the highest wins. */
  version: number;
}

/** A text before it is scored. */
export type UnscoredText = Omit<TextRow, 'sentiment' | 'scorer' | 'scorer_version' | 'scored_at'>;

/** Scores texts in batches and stamps each with its scorer and the time. */
export async function scoreTexts(
  texts: readonly UnscoredText[],
  { scorer, batchSize }: TextScoring,
  now = Date.now(),
): Promise<TextRow[]> {
  const scores = await scoreInBatches(
    scorer,
    texts.map((t) => t.text),
    batchSize,
  );
  return texts.map((t, i) => ({
    ...t,
    sentiment: scores[i]!,
    scorer: scorer.name,
    scorer_version: scorer.version,
    scored_at: now,
  }));
}

/** Writes scored texts to the OLAP store, then the search index; answers what the index refused. */
export async function writeTexts(
  olap: Olap,
  search: SearchIndex,
  rows: readonly TextRow[],
): Promise<IndexRefusal[]> {
  if (rows.length === 0) return [];
  await olap.insert('texts', rows);
  return search.index(rows.map(toDocument));
}

export function createTextConsumer(deps: TextConsumerDeps): TextConsumer {
  const { olap, search, sentiment, logger } = deps;

  return {
    name: 'text-pipeline',
    async handleBatch(batch) {
      const outcomes: MessageOutcome[] = [];
      const latest = new Map<string, UnscoredText>();
      // Every message behind a document, so a refusal of the document dead-letters each of them.
      const sources = new Map<string, BusMessage[]>();
      for (const message of batch.messages) {
        const parsed = readEnvelope(message);
        if (!parsed.ok) {
          outcomes.push(dlq(message, `malformed: ${parsed.reason}`));
          continue;
        }
        const row = textOf(parsed.envelope);
        if (!row) continue;
        const key = `${row.org_id}\u0000${row.id}`;
        const seen = latest.get(key);
        if (!seen || seen.version <= row.version) latest.set(key, row);
        const behind = sources.get(key);
        if (behind) behind.push(message);
        else sources.set(key, [message]);
      }

      // Only the latest revision of each text is scored: one scorer call per batchSize texts.
      const rows = await scoreTexts([...latest.values()], sentiment);
      const refused = await writeTexts(olap, search, rows);
      for (const { orgId, id, reason } of refused) {
        for (const message of sources.get(`${orgId}\u0000${id}`) ?? []) {
          outcomes.push(dlq(message, `search index refused the document: ${reason}`));
        }
      }
      logger?.debug({ partition: batch.partition, texts: rows.length }, 'texts written');
      return { outcomes };
    },
  };
}

/** The text an event carries; null for events without text. */
export function textOf({ orgId, event }: EventEnvelope): UnscoredText | null {
  const version = Date.parse(event.occurredAt);
  const common = { org_id: orgId, account_id: event.accountId, platform: event.platform, version };
  switch (event.type) {
    case 'post':
      return {
        ...common,
        id: event.postId,
        kind: 'post',
        post_id: event.postId,
        author_handle: '',
        text: event.content,
        at: Date.parse(event.publishedAt),
      };
    case 'comment':
      return {
        ...common,
        id: event.commentId,
        kind: event.kind,
        post_id: event.postId ?? '',
        author_handle: event.authorHandle ?? '',
        text: event.text,
        at: version,
      };
    default:
      return null;
  }
}

export function toDocument(row: TextRow): TextDocument {
  return {
    orgId: row.org_id,
    id: row.id,
    kind: row.kind,
    accountId: row.account_id,
    platform: row.platform,
    postId: row.post_id === '' ? null : row.post_id,
    text: row.text,
    sentiment: row.sentiment,
    scorer: { name: row.scorer, version: row.scorer_version },
    scoredAt: row.scored_at,
    at: row.at,
    version: row.version,
  };
}
