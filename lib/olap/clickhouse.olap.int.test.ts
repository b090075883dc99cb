// The OLAP contract against a real ClickHouse server (LOUPE_CLICKHOUSE_URL), in a database of its
// own per run; skipped, and named so, without one. The other tests need no server: one checks
// the requests the adapter sends against a stand-in that answers as the HTTP interface does.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { isStoreUnavailable } from '../store-errors.ts';
import { createClickHouseOlap } from './clickhouse.olap.ts';
import { olapContract } from './olap.contract.ts';

const url = loadConfig().servers.clickhouseUrl;
const database = `loupe_test_${randomBytes(6).toString('hex')}`;

describe.skipIf(!url)('clickhouse server (needs LOUPE_CLICKHOUSE_URL)', () => {
  const admin = () => createClickHouseOlap({ url: url ?? '' });

  olapContract('clickhouse server', async () => {
    const olap = admin();
    await olap.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await olap.close();
    return createClickHouseOlap({ url: url ?? '', database });
  });

  afterAll(async () => {
    const olap = admin();
    await olap.command(`DROP DATABASE IF EXISTS ${database} SYNC`);
    await olap.close();
  });
});

describe('clickhouse olap without a server', () => {
  test('an unreachable server rejects at once, naming ClickHouse and the URL but no password', async () => {
    const olap = createClickHouseOlap({ url: 'http://loupe:secret@127.0.0.1:1' });
    const started = Date.now();
    const error = await olap.query('SELECT 1').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^ClickHouse at http:\/\/127\.0\.0\.1:1\/: /);
    expect((error as Error).message).not.toMatch(/secret/);
    expect(isStoreUnavailable(error)).toBe(true);
    await olap.close();
  });

  describe('requests sent', () => {
    interface Seen {
      search: URLSearchParams;
      body: string;
    }
    const seen: Seen[] = [];
    let answer: (res: ServerResponse) => void = () => undefined;
    // Answers as ClickHouse's HTTP interface does: rows as JSON lines, or an error status whose
    // body is the exception text.
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ search: new URL(req.url ?? '/', 'http://x').searchParams, body });
        answer(res);
      });
    });
    let olap: ReturnType<typeof createClickHouseOlap>;

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      olap = createClickHouseOlap({ url: `http://127.0.0.1:${port}`, database: 'loupe_db' });
    });
    afterAll(async () => {
      await olap.close();
      await new Promise((resolve) => server.close(resolve));
    });

    const rows = (lines: string) => (res: ServerResponse) => {
      res.writeHead(200, {
        'Content-Type': 'application/x-ndjson; charset=UTF-8',
        'X-ClickHouse-Format': 'JSONEachRow',
      });
      res.end(lines);
    };

    test('a query carries chDB-aligned settings, the database and server-side parameters', async () => {
      seen.length = 0;
      answer = rows('{"n":42,"has":1}\n');
      const result = await olap.query('SELECT {n:UInt32} + 1 AS n, has({xs:Array(String)}, 1)', {
        n: 41,
        xs: ['a', "b'c"],
      });
      expect(result).toEqual([{ n: 42, has: 1 }]);
      const [request] = seen;
      expect(request?.body).toBe(
        'SELECT {n:UInt32} + 1 AS n, has({xs:Array(String)}, 1) \nFORMAT JSONEachRow',
      );
      expect(Object.fromEntries(request?.search ?? [])).toMatchObject({
        database: 'loupe_db',
        output_format_json_quote_64bit_integers: '0',
        date_time_input_format: 'best_effort',
        mutations_sync: '1',
        param_n: '41',
        param_xs: "['a','b\\'c']",
      });
    });

    test('an insert is one JSONEachRow request without optimize_on_insert', async () => {
      seen.length = 0;
      answer = rows('');
      await olap.insert('events', [{ a: 1 }, { a: 2, s: 'x' }]);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.search.get('query')).toBe('INSERT INTO events FORMAT JSONEachRow');
      expect(seen[0]?.search.get('optimize_on_insert')).toBe('0');
      expect(seen[0]?.body).toBe('{"a":1}\n{"a":2,"s":"x"}\n');
      await expect(olap.insert('events; DROP TABLE x', [{ a: 1 }])).rejects.toThrow(/table name/);
      expect(seen).toHaveLength(1);
    });

    test('a command of several statements is sent one statement per request', async () => {
      seen.length = 0;
      answer = rows('');
      await olap.command('CREATE TABLE a (x UInt8) ENGINE = Memory;\nDROP TABLE a;\n');
      expect(seen.map((s) => s.body)).toEqual([
        'CREATE TABLE a (x UInt8) ENGINE = Memory',
        'DROP TABLE a',
      ]);
    });

    test("the server's own error keeps its message", async () => {
      answer = (res) => {
        res.writeHead(404, { 'X-ClickHouse-Exception-Code': '60' });
        res.end(
          "Code: 60. DB::Exception: Unknown table expression identifier 'no_such_table_here'. (UNKNOWN_TABLE) (version 25.8.1.1)\n",
        );
      };
      const refused = olap.query('SELECT * FROM no_such_table_here');
      await expect(refused).rejects.toThrow(
        /^Unknown table expression identifier 'no_such_table_here'/,
      );
      // An answer about the request: the pipeline does not wait for it to pass.
      await expect(refused.catch(isStoreUnavailable)).resolves.toBe(false);
    });

    test('an overloaded server is unavailable, not a refusal of the data', async () => {
      answer = (res) => {
        res.writeHead(500, { 'X-ClickHouse-Exception-Code': '241' });
        res.end(
          'Code: 241. DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB. (MEMORY_LIMIT_EXCEEDED) (version 25.8.1.1)\n',
        );
      };
      const refused = olap.insert('events', [{ event_id: 'e1' }]);
      await expect(refused).rejects.toThrow(/Memory limit/);
      await expect(refused.catch(isStoreUnavailable)).resolves.toBe(true);
    });
  });
});
