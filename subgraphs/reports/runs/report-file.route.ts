// GET /v1/reports/runs/:id/file: the stored file of a run, for a key of the run's organisation.
// A run of another organisation is answered as one that does not exist.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryRefusal, type Authenticator } from '../../../lib/auth/caller.ts';
import { readApiKey } from '../../../lib/graphql/subgraph-context.ts';
import type { MetaQuery } from '../../../lib/meta/meta.port.ts';
import { getRunFile } from '../../../lib/meta/report-runs.repo.ts';

const PATH = /^\/v1\/reports\/runs\/([^/]+)\/file$/;

export interface ReportFileRouteDeps {
  authenticate: Authenticator;
  meta: MetaQuery;
}

/** Answers that path and resolves true; resolves false, touching nothing, for any other. */
export function createReportFileRoute(
  deps: ReportFileRouteDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = PATH.exec(path);
    if (!match) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, 'use GET', { allow: 'GET, HEAD' });
      return true;
    }
    const key = readApiKey(req);
    const caller = key === undefined ? null : await deps.authenticate(key);
    if (!caller) {
      answer(res, 401, 'a valid API key is required in the x-api-key header');
      return true;
    }
    const refusal = queryRefusal(caller);
    if (refusal) {
      answer(res, 403, refusal);
      return true;
    }
    let runId: string;
    try {
      runId = decodeURIComponent(match[1] ?? '');
    } catch {
      answer(res, 404, 'no such report file');
      return true;
    }
    const file = runId.length > 100 ? null : await getRunFile(deps.meta, caller.orgId, runId);
    if (!file) {
      answer(res, 404, 'no such report file');
      return true;
    }
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': file.bytes.length,
      'content-disposition': contentDisposition(file.fileName),
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : file.bytes);
    return true;
  };
}

/** An attachment, its name both as plain ASCII and as RFC 5987 UTF-8 for other characters. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function answer(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
