// Demand control at the gateway, decided before any subgraph is called: the document's shape
// (depth, aliases, root fields, directives; tokens are capped at parse), its cost under the model
// of operation-cost.ts against a maximum per operation, a request rate per key and a cost budget
// per organisation, both over a sliding minute shared through the live store. Every answer says
// what it cost in `extensions.cost`; `extensions: { costOnly: true }` asks the cost without
// running anything or spending the budget. A subscription is held to the same when it starts.
import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { DemandLimits } from '../lib/config.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import type { Logger } from '../lib/logger.ts';
import { measureOperation, type OperationShape } from './operation-cost.ts';
import { createSlidingWindow, type SlidingWindow } from './sliding-window.ts';
import type { GatewayContext } from './subgraph-data-source.ts';

export interface CostReport {
  requested: number;
  maximum: number;
  /** The organisation's budget after this operation; absent when only the cost was asked. */
  budget?: { limit: number; remaining: number; windowSeconds: number };
  costOnly?: true;
}

export interface DemandControl {
  plugin: ApolloServerPlugin<GatewayContext>;
  admitSubscription(args: ExecutionArgs): Promise<ExecutionResult | undefined>;
}

export function createDemandControl(deps: {
  limits: DemandLimits;
  live: LiveStore;
  logger?: Logger;
  now?: () => number;
}): DemandControl {
  const { limits, live, logger } = deps;
  const clock = deps.now ? { now: deps.now } : {};
  const budget: SlidingWindow = createSlidingWindow({
    live,
    name: 'budget',
    limit: limits.budgetPerMinute,
    ...(logger && { logger }),
    ...clock,
  });
  const rate: SlidingWindow = createSlidingWindow({
    live,
    name: 'rate',
    limit: limits.keyRequestsPerMinute,
    ...(logger && { logger }),
    ...clock,
  });

  /**
   * Measures an operation against every limit, then takes from the key's rate and the
   * organisation's budget (unless only its cost is asked): the cost report, or a refusal thrown.
   */
  const admit = async (
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown>,
    context: GatewayContext,
    costOnly: boolean,
  ): Promise<CostReport | undefined> => {
    const shape = measureOperation(schema, document, operationName, variables);
    if (!shape) return undefined;
    refuseShape(shape, limits);
    const report: CostReport = { requested: shape.cost, maximum: limits.maxCost };
    if (shape.cost > limits.maxCost) {
      throw refusal(
        400,
        'MAX_COST_EXCEEDED',
        `this operation costs ${shape.cost} points, more than the ${limits.maxCost} one operation may; ask for fewer items, a shorter range or a coarser granularity`,
        { cost: report },
      );
    }
    if (costOnly) return { ...report, costOnly: true };
    const taken = await rate.take(context.keyId, 1);
    if (!taken.ok) {
      throw refusal(
        429,
        'RATE_LIMITED',
        `this key sent more than ${rate.limit} requests in ${rate.windowSeconds} s; retry in ${taken.retryAfterSeconds} s`,
        { rate: { limit: rate.limit, windowSeconds: rate.windowSeconds } },
        taken.retryAfterSeconds,
      );
    }
    const spent = await budget.take(context.caller.orgId, shape.cost);
    report.budget = {
      limit: budget.limit,
      remaining: spent.remaining,
      windowSeconds: budget.windowSeconds,
    };
    if (!spent.ok) {
      throw refusal(
        429,
        'BUDGET_EXCEEDED',
        `this operation costs ${shape.cost} points and the organisation has ${spent.remaining} of its ${budget.limit} per ${budget.windowSeconds} s left; retry in ${spent.retryAfterSeconds} s`,
        { cost: report },
        spent.retryAfterSeconds,
      );
    }
    return report;
  };

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ request }) {
      let report: CostReport | undefined;
      const costOnly = request.extensions?.['costOnly'] === true;
      return {
        async didResolveOperation({ document, operation, contextValue, schema }) {
          // Apollo's gateway would answer these 200 with an error of its query planner.
          if (!operation) {
            throw refusal(
              400,
              'BAD_REQUEST',
              request.operationName
                ? `the document has no operation named ${JSON.stringify(request.operationName)}`
                : 'the document holds several operations: name the one to run in operationName',
              {},
            );
          }
          try {
            report = await admit(
              schema,
              document,
              request.operationName,
              request.variables ?? {},
              contextValue,
              costOnly,
            );
          } catch (error) {
            // The refusal of a cost or a budget still says what was asked.
            const cost = (error as GraphQLError).extensions?.['cost'] as CostReport | undefined;
            if (cost) report = cost;
            throw error;
          }
        },
        async responseForOperation() {
          if (!report?.costOnly) return null;
          return {
            http: { status: 200, headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { extensions: { cost: report } } },
          };
        },
        async willSendResponse({ response }) {
          if (!report || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: report };
        },
      };
    },
  };

  return {
    plugin,
    /** Holds a subscription to the same limits when it starts; a refusal is its error result. */
    async admitSubscription(args: ExecutionArgs): Promise<ExecutionResult | undefined> {
      try {
        await admit(
          args.schema,
          args.document,
          args.operationName ?? undefined,
          (args.variableValues as Record<string, unknown> | undefined) ?? {},
          args.contextValue as GatewayContext,
          false,
        );
        return undefined;
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
    },
  };
}

function refuseShape(shape: OperationShape, limits: DemandLimits): void {
  const checks: [keyof OperationShape, number, string, string][] = [
    ['depth', limits.maxDepth, 'MAX_DEPTH_EXCEEDED', 'fields nest'],
    ['aliases', limits.maxAliases, 'MAX_ALIASES_EXCEEDED', 'aliases are used'],
    ['rootFields', limits.maxRootFields, 'MAX_ROOT_FIELDS_EXCEEDED', 'root fields are asked'],
    ['directives', limits.maxDirectives, 'MAX_DIRECTIVES_EXCEEDED', 'directives are used'],
  ];
  for (const [measure, limit, code, what] of checks) {
    const found = shape[measure];
    if (found > limit) {
      throw refusal(400, code, `${found} ${what}; at most ${limit} may`, { limit, found });
    }
  }
}

function refusal(
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown>,
  retryAfterSeconds?: number,
): GraphQLError {
  const headers = new HeaderMap();
  if (retryAfterSeconds !== undefined) headers.set('retry-after', String(retryAfterSeconds));
  return new GraphQLError(message, {
    extensions: { code, ...details, http: { status, headers } },
  });
}
