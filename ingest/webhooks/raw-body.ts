// A request body as raw bytes, bounded: signatures are computed over exactly what was sent.
import type { IncomingMessage } from 'node:http';

export type RawBody = { ok: true; raw: Buffer } | { ok: false; reason: string };

/**
 * Reads `req` whole, up to `maxBytes`. Past the bound it stops reading and says so; the caller
 * answers with `Connection: close`, so the unread rest never reaches another request.
 */
export function readRawBody(req: IncomingMessage, maxBytes: number): Promise<RawBody> {
  const tooLarge: RawBody = { ok: false, reason: `body exceeds ${maxBytes} bytes` };
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    req.pause();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve({ ok: true, raw: Buffer.concat(chunks, size) }));
    req.once('error', reject);
  });
}
