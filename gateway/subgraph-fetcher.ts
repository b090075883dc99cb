// Subgraph requests over pooled keep-alive sockets. Apollo's default fetcher (make-fetch-happen)
// brings an HTTP cache we never use, and its sockets outlive the gateway; these close with it.
// A fetch is cancelled when the gateway request it serves is (see lib/graphql/request-signal.ts).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { requestSignal } from '../lib/graphql/request-signal.ts';

export type Fetcher = RemoteGraphQLDataSource['fetcher'];

export interface SubgraphFetcherOptions {
  /** Open sockets per subgraph at most; further requests wait for a free one. */
  maxSockets?: number;
  /** A subgraph silent for this long fails the request. */
  timeoutMs?: number;
}

export interface SubgraphFetcher {
  fetcher: Fetcher;
  /** Destroys every pooled socket; requests still in flight fail. */
  close(): void;
}

/** Statuses whose responses have no body; `Response` refuses one for them. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

export function createSubgraphFetcher({
  maxSockets = 128,
  timeoutMs = 30_000,
}: SubgraphFetcherOptions = {}): SubgraphFetcher {
  // LIFO reuses the warmest socket, so idle ones expire instead of all staying half-used.
  const http = new HttpAgent({ keepAlive: true, maxSockets, scheduling: 'lifo' });
  const https = new HttpsAgent({ keepAlive: true, maxSockets, scheduling: 'lifo' });

  const fetcher: Fetcher = (url, init = {}) =>
    new Promise((resolve, reject) => {
      // Apollo passes no signal; the caller's request carries it (deadline or disconnect).
      const signal = requestSignal();
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: init.method ?? 'GET',
          headers: init.headers,
          agent: secure ? https : http,
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          // A response cut short (cancelled, subgraph gone) must still settle the fetch.
          response.on('close', () => {
            if (response.complete) return;
            reject(
              signal?.aborted ? abortError(signal) : new Error(`${target.host} cut the response`),
            );
          });
          response.on('end', () => resolve(toResponse(response, Buffer.concat(chunks))));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`${target.host} did not answer within ${timeoutMs} ms`)),
      );
      // Destroying the request closes its socket, which the subgraph sees as its caller leaving.
      const onAbort = () => request.destroy(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('close', () => signal?.removeEventListener('abort', onAbort));
      request.on('error', reject);
      request.end(init.body);
    });

  return {
    fetcher,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}

/** The abort reason the door gave (a GraphQLError with its code), as an Error. */
function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('the request was cancelled');
}

function toResponse(message: IncomingMessage, body: Buffer): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const status = message.statusCode ?? 502;
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, {
    status,
    statusText: message.statusMessage ?? '',
    headers,
  });
}
