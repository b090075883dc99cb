import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { hashtagsSql } from './hashtag.ts';

test('reads extract hashtags by the expression post_hashtags_mv stores them with', async () => {
  const ddl = await readFile(
    new URL('../../schema/clickhouse/021_post_hashtags.sql', import.meta.url),
    'utf8',
  );
  const squash = (sql: string) => sql.replace(/\s+/g, ' ');
  expect(squash(ddl)).toContain(squash(hashtagsSql("JSONExtractString(payload, 'content')")));
});
