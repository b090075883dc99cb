// The numeric observations an event carries, shared by the OLAP sink and the speed layer so
// both count exactly the same things.
import type { EventInput, MetricName } from '../../schema/event-envelope.ts';

export interface Observation {
  metric: MetricName;
  mode: 'delta' | 'total';
  value: number;
}

export function observationsOf(event: EventInput): Observation[] {
  switch (event.type) {
    case 'engagement':
      return [{ metric: event.metric, mode: event.mode, value: event.value }];
    case 'profile':
      return [
        { metric: 'followers', mode: 'total', value: event.followers },
        { metric: 'following', mode: 'total', value: event.following },
        { metric: 'post_count', mode: 'total', value: event.postCount },
      ];
    case 'app':
      return [{ metric: 'app_events', mode: 'delta', value: 1 }];
    case 'post':
    case 'comment':
    case 'audience':
      return [];
  }
}

/** The post an event is about, or '' for the account itself. */
export function postIdOf(event: EventInput): string {
  return 'postId' in event && event.postId !== undefined ? event.postId : '';
}

export function userIdOf(event: EventInput): string {
  return event.type === 'app' && event.userId !== undefined ? event.userId : '';
}
