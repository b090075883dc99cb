// Resolvers of the reports subgraph: report schedules of the caller's organisation.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { getTrackedAccounts } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import {
  createReportSchedule,
  deleteReportSchedule,
  listReportSchedules,
  type ReportSchedule,
} from '../../lib/meta/report-schedules.repo.ts';
import {
  nextRunAt,
  parseReportScheduleInput,
  type ReportScheduleInput,
} from './report-schedule.input.ts';

export function reportsResolvers(deps: { meta: MetaStore }) {
  const { meta } = deps;
  return {
    DateTime: DateTimeScalar,
    ReportFormat: { PDF: 'pdf', CSV: 'csv' },
    Query: {
      reportSchedules: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listReportSchedules(meta, ctx.caller.orgId),
    },
    Mutation: {
      async createReportSchedule(
        _: unknown,
        args: { input: ReportScheduleInput },
        ctx: SubgraphContext,
      ) {
        const { orgId } = ctx.caller;
        const schedule = parseReportScheduleInput(args.input);
        const found = await getTrackedAccounts(meta, orgId, schedule.accountIds);
        const unknown = schedule.accountIds.filter((_id, i) => found[i] === null);
        if (unknown.length > 0) {
          throw badInput(`accounts not tracked by this organisation: ${listIds(unknown)}`);
        }
        return createReportSchedule(meta, orgId, schedule);
      },
      deleteReportSchedule: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        deleteReportSchedule(meta, ctx.caller.orgId, args.id),
    },
    ReportSchedule: {
      accounts: (schedule: ReportSchedule) =>
        schedule.accountIds.map((id) => ({ __typename: 'Account' as const, id })),
      // Spelled as the metrics subgraph's Metric enum, so a client can pass them on as they are.
      metrics: (schedule: ReportSchedule) => schedule.metrics.map((m) => m.toUpperCase()),
      nextRunAt: (schedule: ReportSchedule) => nextRunAt(schedule.cron, schedule.timezone),
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).map((id) => JSON.stringify(id));
  return ids.length > 10 ? `${shown.join(', ')} and ${ids.length - 10} more` : shown.join(', ');
}
