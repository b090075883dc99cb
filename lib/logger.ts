// One structured logger per process; components take a child with their name. A line written
// while a request is served carries its id (lib/observability/request-id.ts).
import { pino, type Logger } from 'pino';
import { currentRequestId } from './observability/request-id.ts';

export type { Logger };

export function createLogger(level: string, name = 'loupe'): Logger {
  return pino({
    name,
    level,
    mixin() {
      const requestId = currentRequestId();
      return requestId === undefined ? {} : { requestId };
    },
  });
}
