// A keep-alive HTTP client for benchmarks: a bounded pool of sockets, each request timed from
// just before it is written until its whole response body has arrived.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface TimedResponse {
  status: number;
  body: string;
  /** Milliseconds from the request to the last byte of the response. */
  ms: number;
}

export interface HttpClient {
  post(url: string, headers: Record<string, string>, body: string): Promise<TimedResponse>;
  close(): void;
}

export function createHttpClient(options: { connections: number }): HttpClient {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
  });
  return {
    post(url, headers, body) {
      return new Promise<TimedResponse>((resolve, reject) => {
        const started = performance.now();
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
            res.on('error', reject);
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                ms: performance.now() - started,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

export interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** POSTs a GraphQL operation with an API key; throws on transport errors and GraphQL errors. */
export async function graphql<T>(
  client: HttpClient,
  url: string,
  apiKey: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data: T; ms: number }> {
  const res = await client.post(
    url,
    { 'content-type': 'application/json', 'x-api-key': apiKey },
    JSON.stringify({ query, variables }),
  );
  let parsed: GraphQLResult<T>;
  try {
    parsed = JSON.parse(res.body) as GraphQLResult<T>;
  } catch {
    throw new Error(`gateway answered ${res.status} with non-JSON: ${res.body.slice(0, 200)}`);
  }
  if (res.status !== 200 || parsed.errors?.length || parsed.data === undefined) {
    throw new Error(`gateway answered ${res.status}: ${JSON.stringify(parsed.errors ?? parsed)}`);
  }
  return { data: parsed.data, ms: res.ms };
}

/** POSTs a batch of one event to the collector: its timing, and whether it was accepted. */
export async function postOneEvent(
  client: HttpClient,
  ingest: string,
  apiKey: string,
  body: string,
): Promise<TimedResponse & { accepted: boolean }> {
  const res = await client.post(
    `${ingest}/v1/events`,
    { 'content-type': 'application/json', 'x-api-key': apiKey },
    body,
  );
  return { ...res, accepted: res.status === 200 && res.body.startsWith('{"accepted":1,') };
}
