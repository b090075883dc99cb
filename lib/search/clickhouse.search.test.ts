import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChdbOlap } from '../olap/chdb.olap.ts';
import { applyOlapSchema } from '../olap/olap-schema.ts';
import { createClickHouseSearch } from './clickhouse.search.ts';
import { searchContract } from './search.contract.ts';

searchContract('clickhouse (chDB)', async () => {
  const olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-search-')) });
  await applyOlapSchema(olap);
  const search = createClickHouseSearch(olap);
  return { ...search, close: () => olap.close() };
});
