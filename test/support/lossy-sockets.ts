// Connections to a real server whose replies can be lost on the way back: while `losing` is on,
// what the client writes still reaches the server, but the first bytes of any answer reset the
// connection instead of arriving. That is the uncertain failure of a broker that stored a
// request and crashed, or of a link that broke, before its reply got through.
import { connect, type Socket } from 'node:net';

export interface LossySockets {
  /** A kafkajs `socketFactory`. */
  factory: (args: { host: string; port: number; onConnect: () => void }) => Socket;
  losing: boolean;
  /** Replies lost since the start. */
  readonly lost: number;
}

export function lossySockets(): LossySockets {
  let lost = 0;
  const sockets: LossySockets = {
    losing: false,
    get lost() {
      return lost;
    },
    factory({ host, port, onConnect }) {
      const socket = connect({ host, port }, onConnect);
      const emit = socket.emit.bind(socket) as (event: string, ...args: unknown[]) => boolean;
      // Data is dropped before any listener sees it, so the client cannot tell it was answered.
      socket.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'data' && sockets.losing) {
          lost++;
          socket.destroy(new Error('reply lost (test)'));
          return true;
        }
        return emit(event, ...args);
      }) as Socket['emit'];
      return socket;
    },
  };
  return sockets;
}
