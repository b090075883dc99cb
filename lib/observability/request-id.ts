// The id of the HTTP request being served, carried through async calls so every log line written
// for it and every subgraph call it makes names it. A caller's own `x-request-id` is kept when it
// looks like an id; otherwise one is made.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const ID = /^[\w.:-]{1,128}$/;

const current = new AsyncLocalStorage<string>();

/** The caller's id when it is usable, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const raw = req.headers[REQUEST_ID_HEADER];
  const given = Array.isArray(raw) ? raw[0] : raw;
  return given !== undefined && ID.test(given) ? given : randomUUID();
}

export function withRequestId<T>(id: string, work: () => T): T {
  return current.run(id, work);
}

/** The id of the request being served here, or undefined outside one. */
export function currentRequestId(): string | undefined {
  return current.getStore();
}
