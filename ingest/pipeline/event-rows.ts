// Maps an envelope to its row in the OLAP `events` table (schema/clickhouse/001_events.sql).
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { observationsOf, postIdOf, userIdOf } from './observations.ts';

export interface EventRow {
  org_id: string;
  account_id: string;
  event_id: string;
  type: string;
  platform: string;
  post_id: string;
  user_id: string;
  /** Milliseconds since the epoch; ClickHouse reads it into DateTime64(3). */
  occurred_at: number;
  received_at: number;
  metric_names: string[];
  metric_modes: string[];
  metric_values: number[];
  payload: string;
}

export function toEventRow({ orgId, receivedAt, event }: EventEnvelope): EventRow {
  const observations = observationsOf(event);
  return {
    org_id: orgId,
    account_id: event.accountId,
    event_id: event.id,
    type: event.type,
    platform: event.platform,
    post_id: postIdOf(event),
    user_id: userIdOf(event),
    occurred_at: Date.parse(event.occurredAt),
    received_at: receivedAt,
    metric_names: observations.map((o) => o.metric),
    metric_modes: observations.map((o) => o.mode),
    metric_values: observations.map((o) => o.value),
    payload: JSON.stringify(event),
  };
}
