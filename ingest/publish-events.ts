// How connectors and webhook receivers put what they read on the bus: each event is checked
// against the envelope as the collector checks it, and the call resolves only once the good ones
// are durable. An event the envelope refuses is a bug in its normaliser: it is reported, not sent.
import type { Bus, OutgoingMessage } from '../lib/bus/bus.port.ts';
import { EVENT_TIME_WINDOW } from '../lib/config.ts';
import {
  checkEventTime,
  describeIssues,
  eventInputSchema,
  serializeEnvelope,
  type EventInput,
} from '../schema/event-envelope.ts';
import { EVENTS_TOPIC, partitionKey } from './pipeline/topics.ts';

export interface RefusedEvent {
  id: string;
  reason: string;
}

/** Publishes `events` for `orgId`; returns those refused, with why. */
export async function publishEvents(
  bus: Bus,
  orgId: string,
  events: readonly EventInput[],
  receivedAt: number,
): Promise<RefusedEvent[]> {
  const refused: RefusedEvent[] = [];
  const messages: OutgoingMessage[] = [];
  for (const raw of events) {
    const parsed = eventInputSchema.safeParse(raw);
    if (!parsed.success) {
      refused.push({ id: String(raw.id), reason: describeIssues(parsed.error) });
      continue;
    }
    // The collector's window too: older events would make one bus batch span too many partitions.
    const late = checkEventTime(parsed.data, receivedAt, EVENT_TIME_WINDOW);
    const serialized = late
      ? undefined
      : serializeEnvelope({ orgId, receivedAt, event: parsed.data });
    if (!serialized?.ok) {
      refused.push({ id: raw.id, reason: late ?? serialized!.reason });
      continue;
    }
    messages.push({ key: partitionKey(orgId, raw.accountId), value: serialized.value });
  }
  if (messages.length > 0) await bus.publish(EVENTS_TOPIC, messages);
  return refused;
}
