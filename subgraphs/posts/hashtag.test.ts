import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { hashtagsSql } from './hashtag.ts';

test('post_hashtags_mv and the posts.hashtags column extract hashtags by one expression', async () => {
  const ddl = await readFile(
    new URL('../../schema/clickhouse/021_post_hashtags.sql', import.meta.url),
    'utf8',
  );
  const squash = (sql: string) => sql.replace(/\s+/g, ' ');
  expect(squash(ddl)).toContain(squash(hashtagsSql("JSONExtractString(payload, 'content')")));
  const column = await readFile(
    new URL('../../schema/clickhouse/022_posts_hashtags.sql', import.meta.url),
    'utf8',
  );
  expect(squash(column)).toContain(squash(hashtagsSql('content')));
});
