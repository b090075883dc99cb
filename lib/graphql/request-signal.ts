// The abort signal of the HTTP request being served, carried through async calls, so that what a
// request started (subgraph fetches, store calls) stops when its caller leaves or its deadline
// passes, without threading a signal through every resolver.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` with `signal` as the current request's signal. */
export function withRequestSignal<T>(signal: AbortSignal, work: () => T): T {
  return current.run(signal, work);
}

/** The signal of the request being served here, or undefined outside a request (a subscription). */
export function requestSignal(): AbortSignal | undefined {
  return current.getStore();
}

/**
 * Wraps a store so that each of its calls made for a request already aborted fails at once with
 * the abort reason instead of running; a call already running finishes on its own.
 */
export function abandonable<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        requestSignal()?.throwIfAborted();
        return Reflect.apply(value, target, args);
      };
    },
  });
}
