// One suite for every OLAP adapter: chDB here, a ClickHouse server when one is configured.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Olap } from './olap.port.ts';
import { applyOlapSchema } from './olap-schema.ts';

export function olapContract(name: string, create: () => Promise<Olap>): void {
  describe(`olap contract: ${name}`, () => {
    let olap: Olap;
    const org = `org-${randomUUID()}`;

    beforeAll(async () => {
      olap = await create();
      await applyOlapSchema(olap);
      // Applying twice must be harmless: every service applies it at start.
      await applyOlapSchema(olap);
    });
    afterAll(() => olap.close());

    const countEvents = async (orgId: string): Promise<number> => {
      const rows = await olap.query<{ n: number }>(
        'SELECT count() AS n FROM events WHERE org_id = {orgId:String}',
        { orgId },
      );
      return rows[0]?.n ?? -1;
    };

    test('binds scalar and array parameters server-side', async () => {
      const rows = await olap.query<{ n: number; has: number; s: string }>(
        'SELECT {n:UInt32} + 1 AS n, has({xs:Array(String)}, {x:String}) AS has, {s:String} AS s',
        { n: 41, xs: ['a', "b'c"], x: "b'c", s: "it's" },
      );
      expect(rows).toEqual([{ n: 42, has: 1, s: "it's" }]);
    });

    test('inserts rows and reads them back', async () => {
      await olap.insert('events', [
        point({ org, value: 3, at: Date.UTC(2026, 0, 1, 10, 5) }),
        point({ org, value: 4, at: Date.UTC(2026, 0, 1, 10, 50) }),
        point({ org, value: 5, at: Date.UTC(2026, 0, 2, 9, 0) }),
      ]);
      const rows = await olap.query<{ bucket: string; v: number }>(
        `SELECT bucket, sum(delta_sum) AS v FROM metrics_hourly
         WHERE org_id = {org:String} GROUP BY bucket ORDER BY bucket`,
        { org },
      );
      expect(rows).toEqual([
        { bucket: '2026-01-01 10:00:00', v: 7 },
        { bucket: '2026-01-02 09:00:00', v: 5 },
      ]);
      const daily = await olap.query<{ v: number }>(
        'SELECT sum(delta_sum) AS v FROM metrics_daily WHERE org_id = {org:String}',
        { org },
      );
      expect(daily).toEqual([{ v: 12 }]);
    });

    test('keeps the latest lifetime total per bucket by event time, whatever the arrival order', async () => {
      const at = Date.UTC(2026, 0, 3, 8, 0);
      await olap.insert('events', [point({ org, mode: 'total', value: 20, at: at + 60_000 })]);
      await olap.insert('events', [point({ org, mode: 'total', value: 10, at })]);
      const rows = await olap.query<{ level: number }>(
        `SELECT argMaxMerge(level) AS level FROM metrics_daily
         WHERE org_id = {org:String} AND bucket = toDateTime('2026-01-03', 'UTC')`,
        { org },
      );
      expect(rows).toEqual([{ level: 20 }]);
    });

    test('refuses a table name that is not `name` or `db.name`, before running anything', async () => {
      const refused = `org-${randomUUID()}`;
      await olap.command('CREATE TABLE IF NOT EXISTS contract_victim (x UInt8) ENGINE = Memory');
      const hostile = [
        'events; DROP TABLE contract_victim',
        'events FORMAT CSV',
        '`events`',
        '"events"',
        "events'",
        'events--',
        'events\n',
        ' events',
        '',
        '.events',
        'events.',
        'a.b.events',
        'évents',
      ];
      for (const table of hostile) {
        const rows = [point({ org: refused, value: 1, at: Date.UTC(2026, 0, 4) })];
        await expect(olap.insert(table, rows), table).rejects.toThrow(/^invalid table name/);
        // A bad name is the caller's bug even when there is nothing to insert.
        await expect(olap.insert(table, []), table).rejects.toThrow(/^invalid table name/);
      }
      expect(await olap.query('SELECT count() AS n FROM contract_victim')).toEqual([{ n: 0 }]);
      expect(await countEvents(refused)).toBe(0);
    });

    test('accepts `db.name`, and leaves an unknown table for the store to refuse', async () => {
      const dotted = `org-${randomUUID()}`;
      const [current] = await olap.query<{ db: string }>('SELECT currentDatabase() AS db');
      await olap.insert(`${current?.db}.events`, [
        point({ org: dotted, value: 2, at: Date.UTC(2026, 0, 4) }),
      ]);
      expect(await countEvents(dotted)).toBe(1);
      await expect(olap.insert('no_such_table_here', [{ a: 1 }])).rejects.toThrow(
        /no_such_table_here/,
      );
    });

    test('reports a clear error for bad SQL', async () => {
      await expect(olap.query('SELECT * FROM no_such_table_here')).rejects.toThrow(
        /no_such_table_here/,
      );
    });
  });
}

function point(p: { org: string; value: number; at: number; mode?: 'delta' | 'total' }) {
  return {
    org_id: p.org,
    account_id: 'acc-1',
    event_id: randomUUID(),
    type: 'engagement',
    platform: 'x',
    post_id: '',
    user_id: '',
    occurred_at: p.at,
    received_at: Date.now(),
    metric_names: ['likes'],
    metric_modes: [p.mode ?? 'delta'],
    metric_values: [p.value],
    payload: '{}',
  };
}
