// `npm run rescore -- [--org ID] [--all] [--page-size N]`: re-scores the stored comments, mentions
// and post texts with the configured sentiment scorer (VADER today), in the texts table and the
// search index, and prints its progress. Texts that scorer and version already scored are skipped,
// so a stopped run resumes where it was; --all re-scores them too. Safe beside a running pipeline.
import { parseArgs } from 'node:util';
import { rescoreTexts } from '../ingest/pipeline/rescore.ts';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { runCommand } from './run-command.ts';
import { openStores } from './stores.ts';

const USAGE = 'usage: npm run rescore -- [--org ORGANISATION_ID] [--all] [--page-size N]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      all: { type: 'boolean', default: false },
      'page-size': { type: 'string', default: '1000' },
    },
  });
  const pageSize = Number(values['page-size']);
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new ConfigError(`${USAGE}\n--page-size must be a positive integer`);
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const stores = await openStores(config, logger);
  try {
    const { olap, search, sentiment: scorer } = stores;
    const name = `${scorer.name} ${scorer.version}`;
    const started = Date.now();
    let shown = 0;
    const result = await rescoreTexts({
      olap,
      search,
      sentiment: { scorer, batchSize: config.pipeline.sentimentBatchSize },
      ...(values.org !== undefined && { orgId: values.org }),
      all: values.all,
      pageSize,
      onProgress: ({ done, total, refused }) => {
        if (Date.now() - shown < 1000 && done < total) return;
        shown = Date.now();
        const share = total === 0 ? 100 : Math.min(100, (100 * done) / total);
        console.log(
          `rescore (${name}): ${done.toLocaleString('en')} / ${total.toLocaleString('en')} texts (${share.toFixed(1)}%)` +
            (refused > 0 ? `, ${refused} refused by the search index` : ''),
        );
      },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `rescore (${name}): ${result.done.toLocaleString('en')} texts re-scored in ${seconds} s` +
        (result.refused > 0 ? `; the search index refused ${result.refused}` : ''),
    );
  } finally {
    await stores.close();
  }
}

runCommand(main);
