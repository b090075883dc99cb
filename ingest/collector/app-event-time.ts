// An SDK's clock may be wrong. With `sentAt` (its clock when it sent the batch) an app event's
// time is moved by the skew between that clock and ours, as PostHog does:
// stored = received − (sentAt − occurredAt). A time still further ahead than the window allows is
// a broken clock: the event is kept at the receive time, and its answer says so.
import type { EventInput, EventTimeWindow } from '../../schema/event-envelope.ts';

export function settleAppEventTime(
  event: EventInput,
  receivedAt: number,
  window: EventTimeWindow,
): { event: EventInput; warning?: string } {
  if (event.type !== 'app') return { event };
  const stated = Date.parse(event.occurredAt);
  const at = event.sentAt === undefined ? stated : receivedAt - (Date.parse(event.sentAt) - stated);
  if (at > receivedAt + window.appFutureClampMs) {
    const hours = window.appFutureClampMs / 3_600_000;
    return {
      event: { ...event, occurredAt: new Date(receivedAt).toISOString() },
      warning: `occurredAt${event.sentAt === undefined ? '' : ' corrected by sentAt'} is more than ${hours} hours in the future; stored at the receive time`,
    };
  }
  return at === stated
    ? { event }
    : { event: { ...event, occurredAt: new Date(at).toISOString() } };
}
