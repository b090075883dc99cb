// Bounds the requests a server works on at once. Beyond `maxInFlight`, up to `maxQueued` more wait
// at most `maxWaitMs` for a slot (first come, first served); the rest are refused at once, so an
// overloaded server answers 503 quickly instead of queueing work for callers who will have gone.

export interface AdmissionOptions {
  /** Requests worked on at once. */
  maxInFlight: number;
  /** Requests that may wait for a slot; 0 refuses as soon as every slot is taken. */
  maxQueued: number;
  /** Longest wait for a slot before the request is refused. */
  maxWaitMs: number;
}

/** Gives the slot back; calling it twice is harmless. */
export type Release = () => void;

export interface Admission {
  /**
   * Takes a slot: resolves with its release, or with undefined when the request is refused (every
   * slot and queue place taken, its wait ran out, or `signal` aborted while it waited).
   */
  enter(signal?: AbortSignal): Promise<Release | undefined>;
  readonly inFlight: number;
  readonly queued: number;
  /** Resolves once nothing is in flight or waiting. */
  settled(): Promise<void>;
}

interface Waiter {
  admit: () => void;
  refuse: () => void;
}

export function createAdmission({
  maxInFlight,
  maxQueued,
  maxWaitMs,
}: AdmissionOptions): Admission {
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) {
    throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  }
  let inFlight = 0;
  const waiters: Waiter[] = [];
  let onSettled: (() => void)[] = [];

  const settleIfIdle = () => {
    if (inFlight > 0 || waiters.length > 0) return;
    const callbacks = onSettled;
    onSettled = [];
    for (const callback of callbacks) callback();
  };

  const releaser = (): Release => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      // The slot passes straight to the oldest waiter, so a newcomer cannot overtake it.
      if (next) next.admit();
      else {
        inFlight -= 1;
        settleIfIdle();
      }
    };
  };

  return {
    enter(signal) {
      if (signal?.aborted) return Promise.resolve(undefined);
      if (inFlight < maxInFlight) {
        inFlight += 1;
        return Promise.resolve(releaser());
      }
      if (waiters.length >= maxQueued) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const leave = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
        };
        const waiter: Waiter = {
          admit: () => {
            leave();
            resolve(releaser());
          },
          refuse: () => {
            leave();
            resolve(undefined);
            settleIfIdle();
          },
        };
        const onAbort = () => waiter.refuse();
        const timer = setTimeout(onAbort, maxWaitMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return waiters.length;
    },
    settled() {
      if (inFlight === 0 && waiters.length === 0) return Promise.resolve();
      return new Promise((resolve) => onSettled.push(resolve));
    },
  };
}
