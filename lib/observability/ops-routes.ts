// What every HTTP door of ours answers besides its own work: GET /health (alive; 503 while it
// drains), GET /ready (what it needs answers: the stores, and for the gateway its supergraph) and
// GET /metrics (Prometheus text).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registry } from './metrics.ts';

/** Each check's name and `ok`, or why it failed; the door is ready when all are `ok`. */
export type Readiness = () => Promise<Record<string, string>>;

/** Longest a readiness check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2_000;

/** Builds a Readiness from named probes, each given CHECK_TIMEOUT_MS. */
export function readinessOf(checks: Record<string, () => Promise<unknown>>): Readiness {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, probe]) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
            CHECK_TIMEOUT_MS,
          );
        });
        try {
          await Promise.race([probe(), late]);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : String(error)] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return Object.fromEntries(entries);
  };
}

/** Answers an operational route and returns true, or returns false for any other path. */
export async function serveOpsRoute(
  req: IncomingMessage,
  res: ServerResponse,
  options: { draining: boolean; ready?: Readiness },
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/health') {
    // A draining server tells balancers to send new work elsewhere.
    const status = options.draining ? 'draining' : 'ok';
    json(res, options.draining ? 503 : 200, { status });
    return true;
  }
  if (path === '/ready') {
    const checks = options.ready ? await options.ready() : {};
    const ready = !options.draining && Object.values(checks).every((c) => c === 'ok');
    json(res, ready ? 200 : 503, {
      status: ready ? 'ready' : options.draining ? 'draining' : 'not ready',
      checks,
    });
    return true;
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
    return true;
  }
  return false;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
