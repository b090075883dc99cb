// Turns live-store pub/sub messages into an async iterator for a GraphQL subscription,
// keeping only the subscribed accounts' ticks.
import { ticksChannel, type Tick } from '../../lib/live/live-keys.ts';
import type { LiveStore, Unsubscribe } from '../../lib/live/live.port.ts';

/** A subscriber this far behind is cut off rather than buffering without bound. */
const MAX_BUFFERED = 10_000;

export async function subscribeTicks(
  live: LiveStore,
  orgId: string,
  accountIds: ReadonlySet<string>,
): Promise<AsyncIterableIterator<Tick>> {
  const buffer: Tick[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let overflow = false;

  const unsubscribe: Unsubscribe = await live.subscribe(ticksChannel(orgId), (message) => {
    for (const tick of JSON.parse(message) as Tick[]) {
      if (accountIds.has(tick.accountId)) buffer.push(tick);
    }
    if (buffer.length > MAX_BUFFERED) overflow = true;
    wake?.();
  });

  const finish = async (): Promise<IteratorResult<Tick>> => {
    if (!done) {
      done = true;
      wake?.();
      await unsubscribe();
    }
    return { done: true, value: undefined };
  };

  const iterator: AsyncIterableIterator<Tick> = {
    [Symbol.asyncIterator]: () => iterator,
    async next(): Promise<IteratorResult<Tick>> {
      for (;;) {
        if (overflow) {
          await finish();
          throw new Error('subscriber too slow: more than 10000 ticks waiting');
        }
        const tick = buffer.shift();
        if (tick) return { done: false, value: tick };
        if (done) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
  };
  return iterator;
}
