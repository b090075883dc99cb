// One structured logger per process; components take a child with their name. A line written
// while a request is served carries its id (lib/observability/request-id.ts).
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from './observability/request-id.ts';

export type { Logger };

/**
 * Fields that may hold a platform token or a key, censored wherever a logged object carries them:
 * a second line of defence behind never logging credentials at all.
 */
const SECRET_PATHS = [
  'accessToken',
  'refreshToken',
  'credentials',
  'authorization',
  '*.accessToken',
  '*.refreshToken',
  '*.credentials',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
];

export function createLogger(
  level: string,
  name = 'loupe',
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      mixin() {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
    },
    destination,
  );
}
