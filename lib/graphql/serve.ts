// Serves an Apollo server over node:http, and optionally graphql-ws on the same path; every request
// goes through an HTTP door (bounded work in flight, a deadline, a drain at shutdown).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer, BaseContext } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { defaultLimits, type ServerLimits } from '../config.ts';
import { statusOf } from './errors.ts';
import { createHttpDoor } from './http-door.ts';
import { serveOpsRoute, type Readiness } from '../observability/ops-routes.ts';
import { withRequestSignal } from './request-signal.ts';

/** Bodies above this size are refused before parsing. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface SubscriptionOptions<TContext> {
  /** The schema operations are validated against (a function when it is loaded later). */
  schema: GraphQLSchema | (() => GraphQLSchema);
  /** Builds the context of one operation from the socket's connectionParams and upgrade request. */
  context: (
    connectionParams: Record<string, unknown>,
    request: IncomingMessage,
  ) => Promise<TContext>;
  /**
   * Decides at connection time: false closes the socket with 4403 Forbidden; a thrown
   * GraphQLError closes it with 4403 and the error's message as the reason.
   */
  onConnect?: (
    connectionParams: Record<string, unknown>,
    request: IncomingMessage,
  ) => Promise<boolean>;
  /** Replaces local execution of subscriptions, e.g. to forward them to another server. */
  subscribe?: (args: ExecutionArgs) => OperationResult;
}

type OperationResult =
  | Promise<AsyncIterable<ExecutionResult> | ExecutionResult>
  | AsyncIterable<ExecutionResult>
  | ExecutionResult;

export interface ServeOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  host: string;
  /** 0 picks a free port. */
  port: number;
  path?: string;
  context: (request: IncomingMessage) => Promise<TContext>;
  subscriptions?: SubscriptionOptions<TContext>;
  /** Work in flight, queue, deadline and drain; the configured defaults when omitted. */
  limits?: ServerLimits;
  /** What GET /ready checks; without it, ready whenever it is not draining. */
  ready?: Readiness;
  /** More routes beside `path` (the gateway's explorer); true when it answered. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * Runs an operation on this server without HTTP, as if it had come with `headers`: what a gateway
 * in the same process calls instead of fetching (gateway/local-subgraph.ts).
 */
export type LocalExecutor = (
  request: { query: string; variables?: Record<string, unknown>; operationName?: string },
  headers: Record<string, string>,
) => Promise<FormattedExecutionResult>;

export interface ServedGraphQL {
  url: string;
  server: Server;
  local: LocalExecutor;
  /** Stops accepting, lets queries in flight finish until `until` (epoch ms), then stops. */
  close(until?: number): Promise<void>;
}

export async function serveGraphQL<TContext extends BaseContext>(
  options: ServeOptions<TContext>,
): Promise<ServedGraphQL> {
  const { apollo, host, port, path = '/graphql', context, subscriptions } = options;
  const limits = options.limits ?? defaultLimits('subgraph');
  await apollo.start();

  const server = createServer();
  const door = createHttpDoor(server, limits, (res, code, message) =>
    writeErrors(res, statusOf(code), code, message),
  );

  const execute = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readJsonBody(req);
    if (!body.ok) {
      writeErrors(res, body.status, 'BAD_REQUEST', body.reason);
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    // Past the deadline the caller gets its answer now; the work it started is being cancelled.
    const onAbort = () => {
      const reason: unknown = signal.reason;
      if (reason instanceof GraphQLError && reason.extensions['code'] === 'DEADLINE_EXCEEDED') {
        writeErrors(res, 504, 'DEADLINE_EXCEEDED', reason.message);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await withRequestSignal(signal, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method ?? 'GET',
            headers,
            search: url.search,
            body: body.value,
          },
          context: () => context(req),
        }),
      );
      if (signal.aborted || res.headersSent) return;
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      if (options.routes?.(req, res)) return;
      void serveOpsRoute(req, res, { draining: door.draining, ready: options.ready }).then(
        (served) => {
          if (!served) notFound(req, res, path);
        },
      );
      return;
    }
    door
      .serve(req, res, (signal) => execute(req, res, signal))
      .catch((error: unknown) => {
        // Apollo already turns resolver failures into responses; reaching here is a transport fault.
        writeErrors(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
        console.error(error);
      });
  });

  let wsServer: WebSocketServer | undefined;
  let wsCleanup: { dispose: () => void | Promise<void> } | undefined;
  if (subscriptions) {
    wsServer = new WebSocketServer({ server, path });
    wsCleanup = useServer(
      {
        schema: () =>
          typeof subscriptions.schema === 'function'
            ? subscriptions.schema()
            : subscriptions.schema,
        context: (ctx) => subscriptions.context(ctx.connectionParams ?? {}, ctx.extra.request),
        onConnect: async (ctx) => {
          if (!subscriptions.onConnect) return true;
          try {
            return await subscriptions.onConnect(ctx.connectionParams ?? {}, ctx.extra.request);
          } catch (error) {
            // graphql-ws would log a refusal as a crash and close with 4500 Internal server error.
            if (!(error instanceof GraphQLError)) throw error;
            ctx.extra.socket.close(CloseCode.Forbidden, closeReason(error.message));
            return false;
          }
        },
        ...(subscriptions.subscribe && { subscribe: subscriptions.subscribe }),
      },
      wsServer,
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  server.keepAliveTimeout = 65_000;
  // Closed once; later calls wait for the same close.
  let closing: Promise<void> | undefined;

  const local: LocalExecutor = async (request, headers) => {
    let contextValue: TContext;
    try {
      // The context function reads only headers; a refusal there is the answer, as over HTTP.
      contextValue = await context({ headers } as unknown as IncomingMessage);
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error.toJSON()] };
      throw error;
    }
    const response = await apollo.executeOperation(request, { contextValue });
    if (response.body.kind !== 'single') throw new Error('incremental delivery is not served');
    return response.body.singleResult;
  };

  return {
    url: `http://${host}:${address.port}${path}`,
    server,
    local,
    close(until) {
      closing ??= (async () => {
        // Subscriptions never end by themselves: their sockets close with 1001 Going Away.
        await wsCleanup?.dispose();
        wsServer?.close();
        await door.close(until);
        await apollo.stop();
      })();
      return closing;
    },
  };
}

function notFound(req: IncomingMessage, res: ServerResponse, path: string): void {
  req.resume();
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: `not found; GraphQL is served on ${path}` }));
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : 'Forbidden';
}

/**
 * Answers with a GraphQL request error (no `data`), as GraphQL over HTTP describes: in the
 * media type the caller accepts, with the status that tells a client whether to retry.
 */
function writeErrors(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent || res.destroyed) return;
  const accept = res.req.headers.accept ?? '';
  const type = accept.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; reason: string };

async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  if (req.method !== 'POST') return { ok: true, value: undefined };
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return {
      ok: false,
      status: 415,
      reason: `a POST must be sent as content-type application/json${type ? `, not ${type}` : ''}`,
    };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      return { ok: false, status: 413, reason: 'request body exceeds 1 MiB' };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, reason: 'request body is not valid JSON' };
  }
}
