// A top post as a report shows it: a short excerpt of its text, and the thumbnail's alt text.
// Posts carry no alt text today, so the excerpt stands in for it, and the data says so.
import type { PostStats } from '../../posts/post-analytics.store.ts';
import { EXCERPT_LENGTH, type ReportPost } from './report-data.ts';

/** The text with whitespace runs (newlines included) as one space, cut at a word when it can be. */
export function excerptOf(content: string, length = EXCERPT_LENGTH): string {
  const flat = content.replace(/\s+/gu, ' ').trim();
  const chars = [...flat];
  if (chars.length <= length) return flat;
  const cut = chars.slice(0, length - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > length / 2 ? cut.slice(0, space) : cut}…`;
}

export function toReportPost(post: PostStats): ReportPost {
  const excerpt = excerptOf(post.content);
  const media = post.mediaType ?? 'post';
  return {
    id: post.id,
    accountId: post.accountId,
    platform: post.platform,
    publishedAt: post.publishedAt,
    excerpt,
    content: post.content,
    mediaType: post.mediaType,
    url: post.url,
    engagements: post.lifetime.engagements,
    altText: excerpt === '' ? `${media} without text` : `${media}: ${excerpt}`,
    altTextSource: 'content-excerpt',
  };
}
