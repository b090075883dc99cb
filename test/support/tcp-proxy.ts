// A TCP forwarder between the product and one real server, for outage tests: `cut()` is a real
// network failure on our side of the wire (refused connects, reset connections) while the shared
// server itself keeps running for everyone else.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1), the same before and after a cut. */
  readonly port: number;
  /** Stops listening and resets every open connection; resolves once nothing is accepted. */
  cut(): Promise<void>;
  /** Listens again on the same port; new connections reach the target again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const onConnection = (client: Socket) => {
    const upstream = connect({ host: target.host, port: target.port });
    track(client);
    track(upstream);
    // Either side failing ends both, as a broken link would.
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        const address = s.address();
        if (address === null || typeof address === 'string') throw new Error('no TCP address');
        port = address.port;
        server = s;
        resolve();
      });
    });

  const cut = async () => {
    const s = server;
    server = undefined;
    const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined;
    // A reset (RST) rather than a polite FIN: clients see the connection fail, not end.
    for (const socket of open) {
      if (socket.readyState === 'open') socket.resetAndDestroy();
      else socket.destroy();
    }
    open.clear();
    await closed;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    async restore() {
      if (!server) await listen();
    },
    close: cut,
  };
}

/** The same URL with its host and port replaced by the proxy's. */
export function through(proxy: TcpProxy, url: string): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString().replace(/\/$/, '');
}

/** Where a URL's server listens, for the proxy to forward to. */
export function target(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
}
