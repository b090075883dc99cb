// The HTTP ceiling: a node:http server that reads each request body whole and answers 200,
// doing nothing else. Run in its own process, like the product, and driven by the same client.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveControl, tell } from './child.ts';

const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"received":${bytes}}`);
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

serveControl({}, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
await tell({ type: 'ready', url: `http://127.0.0.1:${port}` });
