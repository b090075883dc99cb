// How an adapter says "the store could not be reached": the same call may succeed later, so a
// caller holding data waits and retries rather than giving up on it. Anything else a store
// throws is its answer about the data or the request, and retrying it unchanged will not help.

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';

  constructor(
    /** Which store, for the reader of a log: `Redis`, `Kafka`, `Elasticsearch`, … */
    readonly store: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when the error, or any error in its cause chain, says a store was unreachable. */
export function isStoreUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; depth++) {
    if (e instanceof StoreUnavailableError) return true;
    e = e.cause;
  }
  return false;
}
