// What every HTTP server of ours does around its handler: admits a bounded number of requests
// (503 with Retry-After beyond), gives each a deadline and an abort signal that also fires when
// the caller disconnects, and at shutdown stops accepting and lets the admitted ones finish.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServerLimits } from '../config.ts';
import { createAdmission, type Admission } from './admission.ts';
import { REQUEST_ID_HEADER, requestIdOf, withRequestId } from '../observability/request-id.ts';
import { inSpan, SpanKind, withIncomingTrace } from '../observability/tracing.ts';
import { graphqlError, type ErrorCode } from './errors.ts';

/** Writes a refusal or a failure in the service's own error shape. */
export type Refuse = (res: ServerResponse, code: ErrorCode, message: string) => void;

export interface HttpDoor {
  /**
   * Serves one request: `handle` runs once the request holds a slot, with a signal that aborts
   * at the deadline or when the caller goes away (its reason a GraphQLError with the code).
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    handle: (signal: AbortSignal) => Promise<void>,
  ): Promise<void>;
  /** True once shutdown began: health checks answer 503 so balancers look elsewhere. */
  readonly draining: boolean;
  readonly admission: Admission;
  /**
   * Stops accepting, waits for admitted requests until `until` (epoch ms, default now + drainMs),
   * then cuts whatever is left, and resolves once the server has closed.
   */
  close(until?: number): Promise<void>;
}

/** Seconds a refused caller is asked to wait; whole seconds, as Retry-After takes. */
export const RETRY_AFTER_SECONDS = 1;

export function createHttpDoor(server: Server, limits: ServerLimits, refuse: Refuse): HttpDoor {
  const admission = createAdmission({
    maxInFlight: limits.maxInFlight,
    maxQueued: limits.maxQueued,
    maxWaitMs: limits.queueWaitMs,
  });
  let draining = false;
  // A slow or stalled sender cannot hold a slot past the deadline while its body trickles in.
  server.requestTimeout = limits.deadlineMs;
  server.headersTimeout = Math.min(limits.deadlineMs, 60_000);

  const refuseNow = (res: ServerResponse) => {
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    if (draining) refuse(res, 'UNAVAILABLE', 'the service is shutting down; retry after a second');
    else refuse(res, 'OVERLOADED', 'the service is at capacity; retry after a second');
  };

  const admitted = async (
    req: IncomingMessage,
    res: ServerResponse,
    handle: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> => {
    // Keep-alive callers learn to reconnect elsewhere instead of reusing a closing server.
    if (draining) res.setHeader('connection', 'close');
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) {
        controller.abort(graphqlError('CANCELLED', 'the caller closed the connection'));
      }
    };
    res.once('close', onClose);
    const timer = setTimeout(
      () =>
        controller.abort(
          graphqlError(
            'DEADLINE_EXCEEDED',
            `the request was not answered within ${limits.deadlineMs} ms`,
          ),
        ),
      limits.deadlineMs,
    );
    try {
      const release = draining ? undefined : await admission.enter(controller.signal);
      if (!release) {
        // Unread bodies would otherwise stall keep-alive connections.
        req.resume();
        if (!res.destroyed && !res.headersSent) refuseNow(res);
        return;
      }
      try {
        // Work that never waits on I/O (an answer from caches) would run each request to its
        // end before the next one is even read, so the backlog would wait in the socket
        // buffers, unseen by admission and without a deadline: yielding once lets every
        // request that has arrived take its place, or its 503, first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await handle(controller.signal);
      } finally {
        release();
      }
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
      if (draining) server.closeIdleConnections();
    }
  };

  return {
    serve(req, res, handle) {
      // Every answer names its request, and so do its log lines and subgraph calls.
      const requestId = requestIdOf(req);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      // A server span per request, joining the caller's trace when it sends `traceparent`.
      const attributes = {
        'http.request.method': req.method ?? 'GET',
        'url.path': path,
        'loupe.request_id': requestId,
      };
      return withIncomingTrace(req.headers, () =>
        inSpan(`${req.method ?? 'GET'} ${path}`, SpanKind.SERVER, attributes, async (span) => {
          try {
            await withRequestId(requestId, () => admitted(req, res, handle));
          } finally {
            span.setAttribute('http.response.status_code', res.statusCode);
          }
        }),
      );
    },
    get draining() {
      return draining;
    },
    admission,
    async close(until = Date.now() + limits.drainMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, until - Date.now()));
      });
      await Promise.race([admission.settled(), cut]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}
