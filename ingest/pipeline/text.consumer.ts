// The text pipeline: post contents, comments and mentions from the bus, scored for sentiment,
// written to the OLAP `texts` table and to the search index, one batch each. Both writes are
// keyed by (org, id) and versioned by event time, so a redelivered or replayed batch changes
// nothing a reader sees, and an old revision replayed late never replaces a newer one.
import type { BusMessage } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { SearchIndex, TextDocument } from '../../lib/search/search.port.ts';
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { dlq, type MessageOutcome, type PipelineStage } from './outcome.ts';
import { readEnvelope } from './read-envelope.ts';
import { createSentimentScorer, type SentimentScorer } from './sentiment.scorer.ts';

export interface TextConsumerDeps {
  olap: Olap;
  search: SearchIndex;
  logger?: Logger;
  /** AFINN-165 by default. */
  score?: SentimentScorer;
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
  /** Epoch ms: published (posts) or occurred (comments, mentions). */
  at: number;
  /** Epoch ms of the event: the highest wins. */
  version: number;
}

export function createTextConsumer(deps: TextConsumerDeps): TextConsumer {
  const { olap, search, logger } = deps;
  const score = deps.score ?? createSentimentScorer();

  return {
    name: 'text-pipeline',
    async handleBatch(batch) {
      const outcomes: MessageOutcome[] = [];
      const latest = new Map<string, TextRow>();
      // Every message behind a document, so a refusal of the document dead-letters each of them.
      const sources = new Map<string, BusMessage[]>();
      for (const message of batch.messages) {
        const parsed = readEnvelope(message);
        if (!parsed.ok) {
          outcomes.push(dlq(message, `malformed: ${parsed.reason}`));
          continue;
        }
        const row = textRowOf(parsed.envelope, score);
        if (!row) continue;
        const key = `${row.org_id}\u0000${row.id}`;
        const seen = latest.get(key);
        if (!seen || seen.version <= row.version) latest.set(key, row);
        const behind = sources.get(key);
        if (behind) behind.push(message);
        else sources.set(key, [message]);
      }

      const rows = [...latest.values()];
      if (rows.length > 0) {
        await olap.insert('texts', rows);
        const refused = await search.index(rows.map(toDocument));
        for (const { orgId, id, reason } of refused) {
          for (const message of sources.get(`${orgId}\u0000${id}`) ?? []) {
            outcomes.push(dlq(message, `search index refused the document: ${reason}`));
          }
        }
      }
      logger?.debug({ partition: batch.partition, texts: rows.length }, 'texts written');
      return { outcomes };
    },
  };
}

/** The text an event carries, scored; null for events without text. */
export function textRowOf({ orgId, event }: EventEnvelope, score: SentimentScorer): TextRow | null {
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
        sentiment: score(event.content),
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
        sentiment: score(event.text),
        at: version,
      };
    default:
      return null;
  }
}

function toDocument(row: TextRow): TextDocument {
  return {
    orgId: row.org_id,
    id: row.id,
    kind: row.kind,
    accountId: row.account_id,
    platform: row.platform,
    postId: row.post_id === '' ? null : row.post_id,
    text: row.text,
    sentiment: row.sentiment,
    at: row.at,
    version: row.version,
  };
}
