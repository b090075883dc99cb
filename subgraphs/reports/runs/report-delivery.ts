// Delivers a run's file to every target of its definition: an e-mail per recipient, a signed POST
// per webhook. Each target is tried up to `attempts` times with doubling waits, and every attempt
// is recorded, fenced by the run's lease. A target already delivered (by an attempt of the run on
// a replica that then stopped) is not sent again.
import type { Logger } from '../../../lib/logger.ts';
import type { MetaStore } from '../../../lib/meta/meta.port.ts';
import {
  listDeliveries,
  recordDelivery,
  type ClaimedRun,
  type DeliveryChannel,
  type RunFile,
} from '../../../lib/meta/report-runs.repo.ts';
import { UndeliverableError, type ReportMailer } from './report-mailer.port.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export interface DeliverySettings {
  attempts: number;
  backoffMs: number;
  webhookTimeoutMs: number;
  webhookInlineBytes: number;
  /** The gateway's outside address: download links start with it. */
  publicUrl: string;
}

export interface DeliveryDeps {
  meta: MetaStore;
  mailer: ReportMailer;
  logger: Logger;
  settings: DeliverySettings;
  owner: string;
  now: () => number;
  signal: AbortSignal;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** The path the file of a run is downloaded from (report-file.route.ts serves it). */
export const runFilePath = (runId: string) => `/v1/reports/runs/${encodeURIComponent(runId)}/file`;

/** What a webhook receives, as JSON. */
export interface ReportWebhookBody {
  runId: string;
  status: 'succeeded';
  definition: { id: string; name: string; format: string };
  dueAt: string;
  file: { name: string; contentType: string; size: number; downloadUrl: string; base64?: string };
}

export async function deliverRun(
  deps: DeliveryDeps,
  run: ClaimedRun,
  file: RunFile,
): Promise<void> {
  const { schedule } = run;
  const earlier = await listDeliveries(deps.meta, [run.id]);
  const targets: { channel: DeliveryChannel; target: string; send: () => Promise<void> }[] = [
    ...schedule.recipients.map((to) => ({
      channel: 'email' as const,
      target: to,
      send: () =>
        deps.mailer.send({
          to,
          subject: `${schedule.name}: report of ${run.dueAt.toISOString().slice(0, 10)}`,
          text:
            `Your Loupe report "${schedule.name}" is attached.\n\n` +
            `It can also be downloaded with an API key: ${deps.settings.publicUrl}${runFilePath(run.id)}\n`,
          attachment: { fileName: file.fileName, contentType: file.contentType, bytes: file.bytes },
        }),
    })),
    ...schedule.webhookUrls.map((url) => ({
      channel: 'webhook' as const,
      target: url,
      send: () => postWebhook(deps, run, file, url),
    })),
  ];
  for (const t of targets) {
    const mine = earlier.filter((d) => d.channel === t.channel && d.target === t.target);
    if (mine.some((d) => d.status === 'sent')) continue;
    const first = Math.max(0, ...mine.map((d) => d.attempt)) + 1;
    for (let attempt = first; attempt < first + deps.settings.attempts; attempt++) {
      if (deps.signal.aborted) throw new LeaseLostError('the run lease was lost');
      let error: string | null = null;
      let final = false;
      try {
        await t.send();
      } catch (e) {
        error = (e instanceof Error ? e.message : String(e)).slice(0, 500);
        final = e instanceof UndeliverableError;
      }
      const recorded = await recordDelivery(deps.meta, deps.owner, {
        runId: run.id,
        channel: t.channel,
        target: t.target,
        attempt,
        status: error === null ? 'sent' : 'failed',
        error,
        at: new Date(deps.now()),
      });
      if (!recorded) throw new LeaseLostError('the run lease was lost');
      if (error === null) break;
      deps.logger.warn(
        { runId: run.id, channel: t.channel, attempt, error },
        'report delivery failed',
      );
      if (final) break;
      if (attempt + 1 < first + deps.settings.attempts) {
        await sleep(deps.settings.backoffMs * 2 ** (attempt - first), deps.signal);
      }
    }
  }
}

async function postWebhook(
  deps: DeliveryDeps,
  run: ClaimedRun,
  file: RunFile,
  url: string,
): Promise<void> {
  const payload: ReportWebhookBody = {
    runId: run.id,
    status: 'succeeded',
    definition: { id: run.schedule.id, name: run.schedule.name, format: run.schedule.format },
    dueAt: run.dueAt.toISOString(),
    file: {
      name: file.fileName,
      contentType: file.contentType,
      size: file.bytes.length,
      downloadUrl: `${deps.settings.publicUrl}${runFilePath(run.id)}`,
      ...(file.bytes.length <= deps.settings.webhookInlineBytes && {
        base64: file.bytes.toString('base64'),
      }),
    },
  };
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(deps.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(run.schedule.webhookSecret, timestamp, body),
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.any([deps.signal, AbortSignal.timeout(deps.settings.webhookTimeoutMs)]),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`webhook answered HTTP ${response.status}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
