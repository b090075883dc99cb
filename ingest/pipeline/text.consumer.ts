// The text pipeline: scores the sentiment of post texts, comments and mentions, then writes them
// to the OLAP `texts` table (Post.comments, sentiment) and to the search index. Both writes are
// upserts by id, so a redelivered batch changes nothing visible.
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { SearchIndex, TextDocument } from '../../lib/search/search.port.ts';
import { parseEnvelope } from '../../schema/event-envelope.ts';
import { scoreSentiment } from './sentiment.ts';

export interface TextConsumer {
  handleBatch(batch: BusBatch): Promise<void>;
}

export function createTextConsumer(deps: {
  olap: Olap;
  search: SearchIndex;
  logger?: Logger;
}): TextConsumer {
  const { olap, search, logger } = deps;
  return {
    async handleBatch(batch) {
      const documents: (TextDocument & { authorHandle: string })[] = [];
      for (const message of batch.messages) {
        const parsed = parseEnvelope(message.value);
        // The OLAP sink dead-letters malformed messages; this stage only skips them.
        if (!parsed.ok) {
          logger?.debug({ offset: message.offset, reason: parsed.reason }, 'text: skipped');
          continue;
        }
        const { orgId, event } = parsed.envelope;
        const common = {
          orgId,
          accountId: event.accountId,
          platform: event.platform,
          at: Date.parse(event.occurredAt),
        };
        if (event.type === 'comment') {
          documents.push({
            ...common,
            id: event.commentId,
            kind: event.kind,
            postId: event.postId ?? null,
            text: event.text,
            sentiment: scoreSentiment(event.text),
            authorHandle: event.authorHandle ?? '',
          });
        } else if (event.type === 'post' && event.content.length > 0) {
          documents.push({
            ...common,
            id: event.postId,
            kind: 'post',
            postId: event.postId,
            text: event.content,
            sentiment: scoreSentiment(event.content),
            authorHandle: '',
            at: Date.parse(event.publishedAt),
          });
        }
      }
      if (documents.length === 0) return;
      await olap.insert(
        'texts',
        documents.map((d) => ({
          org_id: d.orgId,
          id: d.id,
          kind: d.kind,
          account_id: d.accountId,
          platform: d.platform,
          post_id: d.postId ?? '',
          author_handle: d.authorHandle,
          text: d.text,
          sentiment: d.sentiment,
          at: d.at,
        })),
      );
      await search.index(documents.map(({ authorHandle: _, ...document }) => document));
    },
  };
}
