import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChdbOlap } from './chdb.olap.ts';
import { olapContract } from './olap.contract.ts';

olapContract('chdb', async () =>
  createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-chdb-')) }),
);
