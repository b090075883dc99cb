// The text pipeline stage as the product runs it, on the opened stores and the configured
// scorer's batch size: one builder for the running product and for replays.
import type { LoupeConfig } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { createTextConsumer, type TextConsumer } from '../ingest/pipeline/text.consumer.ts';
import type { Stores } from './stores.ts';

export function textStage(
  stores: Pick<Stores, 'olap' | 'search' | 'sentiment'>,
  config: LoupeConfig,
  logger: Logger,
): TextConsumer {
  return createTextConsumer({
    olap: stores.olap,
    search: stores.search,
    sentiment: { scorer: stores.sentiment, batchSize: config.pipeline.sentimentBatchSize },
    logger,
  });
}
