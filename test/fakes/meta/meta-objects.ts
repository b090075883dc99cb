// Graph nodes as `fields=` selects them: only the fields asked for (and `id`), a field the node
// does not have refused with code 100, absent values left out rather than null, and the
// `reactions.summary(total_count).limit(0)` expansions Page posts are read with.
import type { MetaAccount, MetaPost } from './meta-seed.ts';
import { graphTime } from './meta-insights.ts';
import { invalidParameter } from './meta-errors.ts';

type Node = Record<string, unknown>;
type FieldReader<T> = (item: T, modifiers: string) => unknown;

interface Field {
  name: string;
  /** What follows the name, e.g. `.summary(total_count).limit(0)`. */
  modifiers: string;
}

/** Splits `a,b.summary(x).limit(0),c{d,e}` at its top-level commas. */
export function parseFields(raw: string | null, defaults: string[]): Field[] {
  if (!raw) return defaults.map((name) => ({ name, modifiers: '' }));
  const fields: Field[] = [];
  let depth = 0;
  let current = '';
  for (const ch of `${raw},`) {
    if (ch === '(' || ch === '{') depth++;
    if (ch === ')' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      const text = current.trim();
      if (text) {
        const cut = text.search(/[.({]/);
        fields.push(
          cut < 0
            ? { name: text, modifiers: '' }
            : { name: text.slice(0, cut), modifiers: text.slice(cut) },
        );
      }
      current = '';
    } else current += ch;
  }
  return fields;
}

function select<T>(
  item: T,
  id: string,
  fields: Field[],
  readers: Record<string, FieldReader<T>>,
  nodeType: string,
): Node {
  const node: Node = {};
  for (const f of fields) {
    const read = readers[f.name];
    if (!read) {
      throw invalidParameter(
        `Tried accessing nonexisting field (${f.name}) on node type (${nodeType})`,
      );
    }
    const value = read(item, f.modifiers);
    if (value !== undefined) node[f.name] = value;
  }
  node.id = id;
  return node;
}

const IG_USER: Record<string, FieldReader<MetaAccount>> = {
  id: (a) => a.id,
  username: (a) => a.username,
  name: (a) => a.name,
  followers_count: (a) => a.followers,
  follows_count: (a) => a.following,
  media_count: (a) => a.posts.length,
  biography: () => 'A fake account for tests',
  website: () => undefined,
};

const IG_MEDIA: Record<string, FieldReader<MetaPost>> = {
  id: (p) => p.id,
  caption: (p) => p.caption,
  media_type: (p) => p.mediaType,
  media_product_type: (p) => p.productType,
  permalink: (p) => p.permalink,
  timestamp: (p) => graphTime(p.createdAt),
  like_count: (p) => p.counters.likes,
  comments_count: (p) => p.counters.comments,
  shortcode: (p) => p.id.slice(-8),
};

const PAGE: Record<string, FieldReader<MetaAccount>> = {
  id: (a) => a.id,
  name: (a) => a.name,
  username: (a) => a.username,
  followers_count: (a) => a.followers,
  fan_count: (a) => a.fans,
  link: (a) => `https://www.facebook.com/${a.username}`,
  category: () => 'Brand',
};

/** An edge read for its summary only: `{data: [], summary: {total_count}}`. */
const counted = (count: number, modifiers: string) => ({
  data: [],
  ...(/summary\((true|total_count)\)/.test(modifiers) && { summary: { total_count: count } }),
});

const POST: Record<string, FieldReader<MetaPost>> = {
  id: (p) => p.id,
  message: (p) => p.caption,
  created_time: (p) => graphTime(p.createdAt),
  permalink_url: (p) => p.permalink,
  status_type: (p) => p.statusType,
  // A post never shared has no `shares` field at all.
  shares: (p) => (p.counters.shares > 0 ? { count: p.counters.shares } : undefined),
  reactions: (p, m) => counted(p.counters.likes, m),
  likes: (p, m) => counted(p.counters.likes, m),
  comments: (p, m) => counted(p.counters.comments, m),
};

export const igUserNode = (a: MetaAccount, fields: Field[]) =>
  select(a, a.id, fields, IG_USER, 'IGUser');
export const igMediaNode = (p: MetaPost, fields: Field[]) =>
  select(p, p.id, fields, IG_MEDIA, 'IGMedia');
export const pageNode = (a: MetaAccount, fields: Field[]) => select(a, a.id, fields, PAGE, 'Page');
export const postNode = (p: MetaPost, fields: Field[]) => select(p, p.id, fields, POST, 'PagePost');
