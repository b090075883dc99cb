// The loop of a worker that leases its jobs from the meta store (the connector manager, the report
// worker): claim on a timer and whenever asked (a finished job frees a slot), one claim at a time,
// with one more for the asks that came meanwhile; renew the leases on a timer of their own. A
// failed turn is logged and the next one tries again.
import type { Logger } from '../logger.ts';

export interface ClaimLoopOptions {
  /** Names the worker in log lines. */
  name: string;
  /** Claims what is due and starts it; answers how many started. */
  claim: () => Promise<number>;
  /** Extends the leases of what runs. */
  renew: () => Promise<void>;
  claimEveryMs: number;
  renewEveryMs: number;
  logger: Logger;
}

export interface ClaimLoop {
  /** Claims soon: now, or once more right after the claim in flight. */
  ask(): void;
  /** Claims now, after the claim in flight (tests drive a worker so). */
  claimNow(): Promise<number>;
  /** Stops both timers and waits for the claim in flight. */
  stop(): Promise<void>;
}

export function startClaimLoop(options: ClaimLoopOptions): ClaimLoop {
  const { name, logger } = options;
  let inFlight: Promise<number> | undefined;
  let again = false;
  let stopped = false;
  const guarded = (what: string, fn: () => Promise<unknown>) => () => {
    fn().catch((error: unknown) =>
      logger.warn({ err: error }, `${name}: ${what} failed; trying again`),
    );
  };
  const ask = guarded('claiming', async () => {
    if (inFlight) {
      again = true;
      return;
    }
    do {
      again = false;
      inFlight = options.claim();
      try {
        await inFlight;
      } finally {
        inFlight = undefined;
      }
    } while (again && !stopped);
  });
  const claimTimer = setInterval(ask, options.claimEveryMs);
  const renewTimer = setInterval(guarded('renewing leases', options.renew), options.renewEveryMs);
  claimTimer.unref();
  renewTimer.unref();
  return {
    ask: () => {
      if (!stopped) ask();
    },
    async claimNow() {
      if (inFlight) await inFlight.catch(() => 0);
      return options.claim();
    },
    async stop() {
      stopped = true;
      clearInterval(claimTimer);
      clearInterval(renewTimer);
      if (inFlight) await inFlight.catch(() => 0);
    },
  };
}
