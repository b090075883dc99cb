// graphql-ws connections from the gateway to subgraphs: one per subgraph and signed caller, shared
// by that caller's subscriptions, opened with the first and closed with the last.
import {
  createClient,
  type Client,
  type FormattedExecutionResult,
  type Sink,
  type SubscribePayload,
} from 'graphql-ws';
import WebSocket from 'ws';
import { INTERNAL_CALLER_PARAM } from '../lib/auth/internal-token.ts';

/** One result a subgraph sent for a subscription. */
export type UpstreamResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

export interface UpstreamPoolOptions {
  /** A subgraph that has not acknowledged a new connection by then fails its subscriptions. */
  ackTimeoutMs?: number;
}

export interface UpstreamPool {
  /**
   * Subscribes on the subgraph served at `url` (HTTP; graphql-ws on the same URL over ws://),
   * passing the gateway's signed caller in connectionParams. Returns the unsubscribe function; `sink` gets the
   * subgraph's results, an error (GraphQL errors, a close event or an Error), or completion.
   */
  subscribe(
    url: string,
    internalToken: string,
    payload: SubscribePayload,
    sink: Sink<UpstreamResult>,
  ): () => void;
  /** Open connections, for tests and metrics. */
  readonly size: number;
  close(): Promise<void>;
}

interface Connection {
  client: Client;
  users: number;
}

export function createUpstreamPool({
  ackTimeoutMs = 10_000,
}: UpstreamPoolOptions = {}): UpstreamPool {
  const connections = new Map<string, Connection>();

  const open = (url: string, internalToken: string): Connection => ({
    client: createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { [INTERNAL_CALLER_PARAM]: internalToken },
      lazy: true,
      // A dropped subgraph connection ends its subscriptions; clients resubscribe.
      retryAttempts: 0,
      connectionAckWaitTimeout: ackTimeoutMs,
    }),
    users: 0,
  });

  return {
    subscribe(url, internalToken, payload, sink) {
      const key = `${url}\n${internalToken}`;
      let connection = connections.get(key);
      if (!connection) {
        connection = open(url, internalToken);
        connections.set(key, connection);
      }
      const used = connection;
      used.users += 1;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        used.users -= 1;
        if (used.users === 0 && connections.get(key) === used) {
          connections.delete(key);
          disposeQuietly(used.client);
        }
      };
      const unsubscribe = used.client.subscribe(payload, {
        next: (result) => sink.next(result),
        error: (error) => {
          release();
          sink.error(error);
        },
        complete: () => {
          release();
          sink.complete();
        },
      });
      return () => {
        unsubscribe();
        release();
      };
    },
    get size() {
      return connections.size;
    },
    async close() {
      const all = [...connections.values()];
      connections.clear();
      await Promise.all(all.map((c) => Promise.resolve(c.client.dispose()).catch(() => undefined)));
    },
  };
}

function disposeQuietly(client: Client): void {
  // dispose() rejects when the connection had failed to open, which its sinks were already told.
  Promise.resolve(client.dispose()).catch(() => undefined);
}
