// The text stage on the real Elasticsearch, under its runner: a document the index refuses
// dead-letters the message behind it with Elasticsearch's reason, and every other text of the
// batch is written and searchable; an unreachable index fails the batch as an outage instead.
// (Documents refused one by one in a bulk answer are turned into dead letters by the stage
// itself; `elasticsearch.search.int.test.ts` shows the adapter naming them.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import { createLogger } from '../../lib/logger.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createElasticsearchSearch } from '../../lib/search/elasticsearch.search.ts';
import { isStoreUnavailable } from '../../lib/store-errors.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { throwawayElasticsearch } from '../../test/support/throwaway-servers.ts';
import type { DeadLetter } from './dead-letters.ts';
import { createStageRunner, type RetryPolicy } from './stage-runner.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import { createTextConsumer } from './text.consumer.ts';

const logger = createLogger('silent');
const RETRY: RetryPolicy = { attempts: 2, backoffMs: 5, maxBackoffMs: 10, maxSplitTries: 2000 };
const room = throwawayElasticsearch();
let dir: string;
let olap: Olap;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loupe-text-es-'));
  olap = createChdbOlap({ dataDir: dir });
  await applyOlapSchema(olap);
});
afterAll(async () => {
  await olap.close();
  await rm(dir, { recursive: true, force: true });
  await room.drop();
});

function batchOf(envelopes: readonly { orgId: string; event: EventInput }[]): BusBatch {
  return {
    topic: 'events',
    partition: 0,
    messages: envelopes.map(({ orgId, event }, offset) => ({
      topic: 'events',
      partition: 0,
      offset,
      key: `${orgId}/${event.accountId}`,
      value: JSON.stringify({ orgId, receivedAt: Date.now(), event }),
    })),
  };
}

const comment = (id: string, text: string): EventInput => ({
  id: `ev-${id.length}-${id.slice(0, 8)}`,
  type: 'comment',
  kind: 'comment',
  platform: 'instagram',
  accountId: 'acct-1',
  commentId: id,
  text,
  occurredAt: new Date(Date.UTC(2026, 10, 30, 12)).toISOString(),
});

test('a document Elasticsearch refuses is dead-lettered with its reason; the other texts are indexed', async () => {
  const search = createElasticsearchSearch({ url: room.url, indexPrefix: room.indexPrefix });
  const orgId = 'org-text-es';
  // A valid envelope whose document id passes Elasticsearch's 512-byte limit on `_id`: 128
  // three-byte characters for the organisation and as many for the comment.
  const wide = '評'.repeat(128);
  const letters: DeadLetter[] = [];
  const run = createStageRunner({
    stage: createTextConsumer({
      olap,
      search,
      sentiment: { scorer: createVaderScorer(), batchSize: 64 },
      logger,
    }),
    deadLetters: async (_stage, batch) => void letters.push(...batch),
    logger,
    retry: RETRY,
  });
  const report = await run(
    batchOf([
      { orgId, event: comment('c1', 'the espresso was lovely') },
      { orgId: wide, event: comment(wide, 'the espresso was cold') },
      { orgId, event: comment('c3', 'espresso again tomorrow') },
    ]),
  );

  // Elasticsearch refuses the whole bulk request for it, so the runner splits the batch.
  expect(report).toMatchObject({ handled: 2, deadLettered: 1 });
  expect(letters.map((l) => l.message.offset)).toEqual([1]);
  expect(letters[0]?.reason).toMatch(/^failed alone: Elasticsearch bulk indexing .*too long/);
  const found = await search.search({ orgId, text: 'espresso', limit: 10 });
  expect(found.hits.map((h) => h.document.id).sort()).toEqual(['c1', 'c3']);
  await search.close();
});

test('an unreachable index fails the batch as an outage, dead-lettering nothing', async () => {
  const search = createElasticsearchSearch({
    url: 'http://127.0.0.1:1',
    indexPrefix: room.indexPrefix,
    maxRetries: 0,
  });
  const letters: DeadLetter[] = [];
  const run = createStageRunner({
    stage: createTextConsumer({
      olap,
      search,
      sentiment: { scorer: createVaderScorer(), batchSize: 64 },
      logger,
    }),
    deadLetters: async (_stage, batch) => void letters.push(...batch),
    logger,
    retry: RETRY,
  });
  const failed = run(batchOf([{ orgId: 'org-text-es', event: comment('c9', 'espresso') }]));
  await expect(failed).rejects.toSatisfy(isStoreUnavailable);
  expect(letters).toEqual([]);
  await search.close();
});
