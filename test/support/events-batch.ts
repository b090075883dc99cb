// A batch of the `events` topic as a pipeline stage receives it from the bus: one partition,
// offsets from 0, each event in the envelope the collector would publish.
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import type { EventInput } from '../../schema/event-envelope.ts';

export function eventsBatch(
  orgId: string,
  events: readonly EventInput[],
  receivedAt = Date.now(),
  /** Raw message values appended after the events, e.g. malformed ones. */
  extra: readonly string[] = [],
): BusBatch {
  const values = [
    ...events.map((event) => ({
      key: event.accountId,
      value: JSON.stringify({ orgId, receivedAt, event }),
    })),
    ...extra.map((value) => ({ key: 'k', value })),
  ];
  return {
    topic: 'events',
    partition: 0,
    messages: values.map((m, offset) => ({ topic: 'events', partition: 0, offset, ...m })),
  };
}
