// Serves an Apollo server over node:http, and optionally graphql-ws on the same path.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer, BaseContext } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  GraphQLError,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

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
}

export interface ServedGraphQL {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function serveGraphQL<TContext extends BaseContext>(
  options: ServeOptions<TContext>,
): Promise<ServedGraphQL> {
  const { apollo, host, port, path = '/graphql', context, subscriptions } = options;
  await apollo.start();

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (url.pathname !== path) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `not found; GraphQL is served on ${path}` }));
        return;
      }
      const body = await readJsonBody(req);
      if (!body.ok) {
        res.writeHead(body.status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ message: body.reason, extensions: { code: 'BAD_REQUEST' } }],
          }),
        );
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method ?? 'GET',
          headers,
          search: url.search,
          body: body.value,
        },
        context: () => context(req),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    })().catch((error: unknown) => {
      // Apollo already turns resolver failures into responses; reaching here is a transport fault.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        }),
      );
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

  return {
    url: `http://${host}:${address.port}${path}`,
    server,
    async close() {
      await wsCleanup?.dispose();
      wsServer?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : 'Forbidden';
}

type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; reason: string };

async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  if (req.method !== 'POST') return { ok: true, value: undefined };
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
