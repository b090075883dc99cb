// Posts events to the collector in batches of its largest size, as a producer would, and checks
// that every one was accepted.
import { expect } from 'vitest';
import { MAX_EVENTS_PER_BATCH } from '../../ingest/collector/collector.server.ts';
import { API_KEY_HEADER } from '../../lib/auth/caller.ts';

export async function postAccepted(
  ingestUrl: string,
  key: string,
  events: readonly object[],
): Promise<void> {
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_BATCH) {
    const res = await fetch(`${ingestUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [API_KEY_HEADER]: key },
      body: JSON.stringify({ events: events.slice(i, i + MAX_EVENTS_PER_BATCH) }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rejected: number }).rejected).toBe(0);
  }
}
