// Writes every event to the OLAP store once: a batch redelivered after a crash, a replayed
// offset range or a producer retry inserts nothing twice, because ids already stored are
// filtered out before the insert (the rollups are fed by that same insert).
import type { Olap } from '../../lib/olap/olap.port.ts';
import { dlq, type MessageOutcome, type PipelineStage, type StageResult } from './outcome.ts';
import { readEnvelope } from './read-envelope.ts';
import { toEventRow, type EventRow } from './event-rows.ts';
import type { WriteMarker } from './write-marks.ts';

export interface SinkResult extends StageResult {
  inserted: number;
  duplicates: number;
}

export type OlapSink = PipelineStage<SinkResult>;

export function createOlapSink(deps: {
  olap: Olap;
  /** Tells cached readers what changed; every row of the batch is marked, stored before or not. */
  marks?: WriteMarker;
}): OlapSink {
  const { olap, marks } = deps;

  return {
    name: 'olap-sink',
    async handleBatch(batch) {
      const outcomes: MessageOutcome[] = [];
      const fresh = new Map<string, EventRow>();
      let duplicates = 0;
      for (const message of batch.messages) {
        const parsed = readEnvelope(message);
        if (!parsed.ok) {
          outcomes.push(dlq(message, `malformed: ${parsed.reason}`));
          continue;
        }
        const row = toEventRow(parsed.envelope);
        const key = `${row.org_id}\u0000${row.event_id}`;
        if (fresh.has(key)) duplicates++;
        else fresh.set(key, row);
      }

      const all = [...fresh.values()];
      const stored = await storedKeys(olap, all);
      for (const key of stored) if (fresh.delete(key)) duplicates++;
      await olap.insert('events', [...fresh.values()]);
      // Rows stored by an earlier try are marked again: that try may have failed before marking.
      await marks?.mark(all, Date.now());
      return { outcomes, inserted: fresh.size, duplicates };
    },
  };
}

/** Keys (org + event id) of the batch's events already in the table. */
async function storedKeys(olap: Olap, rows: readonly EventRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  let from = Infinity;
  let to = -Infinity;
  const orgs = new Set<string>();
  const accounts = new Set<string>();
  for (const row of rows) {
    from = Math.min(from, row.occurred_at);
    to = Math.max(to, row.occurred_at);
    orgs.add(row.org_id);
    accounts.add(row.account_id);
  }
  // The key prefix and time bounds let ClickHouse read only the granules these events could sit in.
  const found = await olap.query<{ org_id: string; event_id: string }>(
    `SELECT org_id, event_id FROM events
     WHERE org_id IN {orgs:Array(String)} AND account_id IN {accounts:Array(String)}
       AND occurred_at BETWEEN fromUnixTimestamp64Milli({from:Int64}, 'UTC')
                           AND fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       AND event_id IN {ids:Array(String)}`,
    {
      orgs: [...orgs],
      accounts: [...accounts],
      from,
      to,
      ids: rows.map((r) => r.event_id),
    },
  );
  return found.map((f) => `${f.org_id}\u0000${f.event_id}`);
}
