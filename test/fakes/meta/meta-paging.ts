// Graph's cursor pagination (A.6): `paging.cursors.before/after`, full-URL `previous`/`next`,
// `next` missing on the last page, and pages that hold fewer than `limit` items when some are
// privacy-filtered. Cursors name an item, so they break when that item is deleted.
import { invalidParameter } from './meta-errors.ts';

export interface Paged<T> {
  data: T[];
  paging?: {
    cursors: { before: string; after: string };
    previous?: string;
    next?: string;
  };
}

const encode = (id: string) => Buffer.from(`c:${id}`).toString('base64url');
const decode = (cursor: string) => {
  const text = Buffer.from(cursor, 'base64url').toString();
  return text.startsWith('c:') ? text.slice(2) : undefined;
};

export interface PageRequest {
  /** The request's own URL, for `previous` and `next`. */
  url: URL;
  limit: number;
  after?: string;
  before?: string;
}

/**
 * One page of `items` (in list order, hidden ones included): the slots from the cursor on, the
 * visible ones of them returned.
 */
export function pageOf<T extends { id: string; hidden: boolean }, R>(
  items: readonly T[],
  req: PageRequest,
  render: (item: T) => R,
): Paged<R> {
  let start = 0;
  let end: number;
  if (req.after !== undefined) {
    const at = indexOf(items, req.after);
    start = at + 1;
    end = Math.min(items.length, start + req.limit);
  } else if (req.before !== undefined) {
    end = indexOf(items, req.before);
    start = Math.max(0, end - req.limit);
  } else {
    end = Math.min(items.length, req.limit);
  }
  const slots = items.slice(start, end);
  const data = slots.filter((item) => !item.hidden).map(render);
  if (slots.length === 0) return { data };
  const before = encode(slots[0]!.id);
  const after = encode(slots[slots.length - 1]!.id);
  const link = (name: 'after' | 'before', cursor: string) => {
    const url = new URL(req.url);
    url.searchParams.delete('after');
    url.searchParams.delete('before');
    url.searchParams.set('limit', String(req.limit));
    url.searchParams.set(name, cursor);
    return url.toString();
  };
  return {
    data,
    paging: {
      cursors: { before, after },
      ...(start > 0 && { previous: link('before', before) }),
      ...(end < items.length && { next: link('after', after) }),
    },
  };
}

function indexOf(items: readonly { id: string }[], cursor: string): number {
  const id = decode(cursor);
  const at = id === undefined ? -1 : items.findIndex((item) => item.id === id);
  if (at < 0) throw invalidParameter('The cursor is not valid (its item may have been deleted)');
  return at;
}
