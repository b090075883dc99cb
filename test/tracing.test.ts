// OpenTelemetry traces through the running product (embedded), received by a local OTLP/HTTP
// endpoint: a request sent with a `traceparent` yields the gateway's server span under the
// caller's span, then subgraph and store spans, all in the caller's trace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';
import { waitForValue } from './support/wait-for.ts';

const KEY = 'loupe_traces_key_0123456789';
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
const received: ReceivedSpan[] = [];
let receiver: Server;
let loupe: RunningLoupe;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: { scopeSpans?: { spans?: ReceivedSpan[] }[] }[];
      };
      for (const r of body.resourceSpans ?? []) {
        for (const s of r.scopeSpans ?? []) received.push(...(s.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  loupe = await startEmbeddedProduct(KEY, {
    LOUPE_OTLP_TRACES_URL: `http://127.0.0.1:${port}/v1/traces`,
  });
}, 60_000);
afterAll(async () => {
  await loupe?.close();
  receiver?.close();
});

test("a request's spans join the caller's trace, from the gateway to the subgraphs and stores", async () => {
  const traceId = randomBytes(16).toString('hex');
  const parent = randomBytes(8).toString('hex');
  const res = await fetch(loupe.urls.gateway!, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': KEY,
      traceparent: `00-${traceId}-${parent}-01`,
    },
    body: JSON.stringify({ query: '{ accounts { id } }' }),
  });
  expect(res.status).toBe(200);
  const spans = await waitForValue('the spans of the request', () => {
    const mine = received.filter((s) => s.traceId === traceId);
    return mine.some((s) => s.name.startsWith('meta.')) ? mine : undefined;
  });
  const server = spans.find((s) => s.name === 'POST /graphql');
  expect(server?.parentSpanId).toBe(parent);
  const names = spans.map((s) => s.name);
  expect(names).toEqual(expect.arrayContaining(['subgraph audience (local)', 'meta.query']));
  // Every span but the server's has a parent inside this trace.
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans.filter((s) => s !== server)) {
    expect(ids.has(span.parentSpanId ?? ''), span.name).toBe(true);
  }
}, 30_000);
