// Open-loop HTTP load: requests start at a fixed rate whatever the server answers, as many callers
// do, so an overloaded server cannot slow its own load down. Each request has a client timeout,
// and the run stops at `maxRequests`, so a server that never answers still ends the run.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OpenLoadOptions {
  url: string;
  headers: Record<string, string>;
  body: () => string;
  ratePerSecond: number;
  durationMs: number;
  /** A request unanswered after this long is abandoned by its caller (the socket is closed). */
  timeoutMs: number;
  maxRequests: number;
}

export interface Outcome {
  /** HTTP status, or how the request failed. */
  status: number | 'timeout' | 'error';
  ms: number;
  /** The Retry-After header of the answer, if any. */
  retryAfter?: string;
  /** `errors[0].extensions.code` of the answer, if any. */
  code?: string;
  /** performance.now() when it ended. */
  at: number;
}

export function openLoadAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: Infinity });
}

/** One POST, timed from its start to the last byte of the answer. */
export function timedPost(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (outcome: Omit<Outcome, 'ms' | 'at'>) => {
      const at = performance.now();
      resolve({ ...outcome, ms: at - started, at });
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => done({ status: 'error' }));
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const retryAfter = res.headers['retry-after'];
          done({ status, ...(retryAfter && { retryAfter }), ...codeOf(chunks) });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 'timeout' });
    }, timeoutMs);
    req.on('error', () => {
      clearTimeout(timer);
      done({ status: 'error' });
    });
    req.end(body);
  });
}

function codeOf(chunks: Buffer[]): { code?: string } {
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      errors?: { extensions?: { code?: unknown } }[];
    };
    const code = parsed.errors?.[0]?.extensions?.code;
    return typeof code === 'string' ? { code } : {};
  } catch {
    return {};
  }
}

export async function runOpenLoad(options: OpenLoadOptions): Promise<Outcome[]> {
  const { url, headers, body, ratePerSecond, durationMs, timeoutMs, maxRequests } = options;
  const agent = openLoadAgent();
  const pending: Promise<Outcome>[] = [];
  const started = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = performance.now() - started;
        const due = Math.min(
          maxRequests,
          Math.floor((Math.min(elapsed, durationMs) * ratePerSecond) / 1000),
        );
        while (pending.length < due)
          pending.push(timedPost(agent, url, headers, body(), timeoutMs));
        if (elapsed >= durationMs || pending.length >= maxRequests) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    return await Promise.all(pending);
  } finally {
    agent.destroy();
  }
}

/** Closed-loop load: `connections` callers each send, wait for the answer, and send again. */
export async function runClosedLoad(options: {
  url: string;
  headers: Record<string, string>;
  body: () => string;
  connections: number;
  durationMs: number;
  timeoutMs: number;
}): Promise<{ outcomes: Outcome[]; ms: number }> {
  const agent = openLoadAgent();
  const outcomes: Outcome[] = [];
  const started = performance.now();
  const until = started + options.durationMs;
  const caller = async () => {
    while (performance.now() < until) {
      outcomes.push(
        await timedPost(agent, options.url, options.headers, options.body(), options.timeoutMs),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, caller));
    return { outcomes, ms: performance.now() - started };
  } finally {
    agent.destroy();
  }
}
