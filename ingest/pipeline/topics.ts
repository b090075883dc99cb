// Bus topics and consumer groups of the pipeline.

export const EVENTS_TOPIC = 'events';
export const DEAD_LETTER_TOPIC = 'events.dead-letter';

export const GROUPS = {
  olapSink: 'olap-sink',
  speedLayer: 'speed-layer',
  text: 'text-pipeline',
} as const;

/** Partition key: one account's events stay in order on one partition. */
export function partitionKey(orgId: string, accountId: string): string {
  return `${orgId}/${accountId}`;
}
