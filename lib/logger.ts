// One structured logger per process; components take a child with their name.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'loupe'): Logger {
  return pino({ name, level });
}
