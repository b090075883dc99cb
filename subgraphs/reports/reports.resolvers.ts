// Resolvers of the reports subgraph: report definitions of the caller's organisation and their runs.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput, graphqlError } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { getTrackedAccounts } from '../../lib/meta/accounts.repo.ts';
import { getCompetitorSet } from '../../lib/meta/competitor-sets.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import {
  getRun,
  listDeliveries,
  listRuns,
  queueManualRun,
  type ReportRun,
} from '../../lib/meta/report-runs.repo.ts';
import {
  createReportSchedule,
  deleteReportSchedule,
  getReportSchedule,
  listReportSchedules,
  updateReportSchedule,
  type NewReportSchedule,
  type ReportSchedule,
} from '../../lib/meta/report-schedules.repo.ts';
import { parseReportScheduleInput, type ReportScheduleInput } from './report-schedule.input.ts';
import { runFilePath } from './runs/report-delivery.ts';

const MAX_RUNS = 100;
const upper = (value: string) => value.toUpperCase();

export function reportsResolvers(deps: { meta: MetaStore; now?: () => number }) {
  const { meta } = deps;
  const now = deps.now ?? Date.now;

  /** Input checked, and its accounts or set owned by the caller's organisation; else BAD_USER_INPUT. */
  async function checked(orgId: string, input: ReportScheduleInput): Promise<NewReportSchedule> {
    const schedule = parseReportScheduleInput(input, new Date(now()));
    if (schedule.competitorSetId) {
      if (!(await getCompetitorSet(meta, orgId, schedule.competitorSetId))) {
        throw badInput(`no competitor set ${JSON.stringify(schedule.competitorSetId)} here`);
      }
      return schedule;
    }
    const found = await getTrackedAccounts(meta, orgId, schedule.accountIds);
    const unknown = schedule.accountIds.filter((_id, i) => found[i] === null);
    if (unknown.length > 0) {
      throw badInput(`accounts not tracked by this organisation: ${listIds(unknown)}`);
    }
    return schedule;
  }

  const first = (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > MAX_RUNS) {
      throw badInput(`first must be between 1 and ${MAX_RUNS}`);
    }
    return n;
  };

  return {
    DateTime: DateTimeScalar,
    ReportFormat: { PDF: 'pdf', CSV: 'csv' },
    ReportRange: {
      LAST_7_DAYS: 'last_7_days',
      LAST_30_DAYS: 'last_30_days',
      PREVIOUS_MONTH: 'previous_month',
    },
    Query: {
      reportSchedules: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listReportSchedules(meta, ctx.caller.orgId),
      reportSchedule: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        getReportSchedule(meta, ctx.caller.orgId, args.id),
      reportRuns: (_: unknown, args: { scheduleId: string; first: number }, ctx: SubgraphContext) =>
        listRuns(meta, ctx.caller.orgId, args.scheduleId, first(args.first)),
      reportRun: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        getRun(meta, ctx.caller.orgId, args.id),
    },
    Mutation: {
      async createReportSchedule(
        _: unknown,
        args: { input: ReportScheduleInput },
        ctx: SubgraphContext,
      ) {
        const { orgId } = ctx.caller;
        return createReportSchedule(meta, orgId, await checked(orgId, args.input));
      },
      async updateReportSchedule(
        _: unknown,
        args: { id: string; input: ReportScheduleInput },
        ctx: SubgraphContext,
      ) {
        const { orgId } = ctx.caller;
        const schedule = await checked(orgId, args.input);
        const updated = await updateReportSchedule(meta, orgId, args.id, schedule, new Date(now()));
        if (!updated)
          throw graphqlError('NOT_FOUND', `no report schedule ${JSON.stringify(args.id)}`);
        return updated;
      },
      deleteReportSchedule: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        deleteReportSchedule(meta, ctx.caller.orgId, args.id),
      async runReport(_: unknown, args: { id: string }, ctx: SubgraphContext) {
        const run = await queueManualRun(meta, ctx.caller.orgId, args.id, new Date(now()));
        if (!run) throw graphqlError('NOT_FOUND', `no report schedule ${JSON.stringify(args.id)}`);
        return run;
      },
    },
    ReportSchedule: {
      accounts: (schedule: ReportSchedule) =>
        schedule.accountIds.map((id) => ({ __typename: 'Account' as const, id })),
      // Spelled as the metrics subgraph's Metric enum, so a client can pass them on as they are.
      metrics: (schedule: ReportSchedule) => schedule.metrics.map(upper),
      rangeRule: (schedule: ReportSchedule) => schedule.rangeRule,
      // The secret signs webhooks; members see the definition, only admins the key to forge them.
      webhookSecret: (schedule: ReportSchedule, _: unknown, ctx: SubgraphContext) =>
        ctx.caller.role === 'admin' ? schedule.webhookSecret : null,
      runs: (schedule: ReportSchedule, args: { first: number }, ctx: SubgraphContext) =>
        listRuns(meta, ctx.caller.orgId, schedule.id, first(args.first)),
    },
    ReportRun: {
      schedule: async (run: ReportRun, _: unknown, ctx: SubgraphContext) =>
        getReportSchedule(meta, ctx.caller.orgId, run.scheduleId),
      trigger: (run: ReportRun) => upper(run.trigger),
      status: (run: ReportRun) => upper(run.status),
      fileUrl: (run: ReportRun) => (run.size === null ? null : runFilePath(run.id)),
      deliveries: async (run: ReportRun) =>
        (await listDeliveries(meta, [run.id])).map((d) => ({
          ...d,
          channel: upper(d.channel),
          status: upper(d.status),
        })),
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).map((id) => JSON.stringify(id));
  return ids.length > 10 ? `${shown.join(', ')} and ${ids.length - 10} more` : shown.join(', ');
}
