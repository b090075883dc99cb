// @apollo/gateway executes no subscriptions, so the gateway does. Apollo's query planner splits a
// subscription into a primary fetch (the root field and what its own subgraph resolves) and the
// rest (entity fields of other subgraphs). The primary fetch is forwarded over graphql-ws to the
// owning subgraph; each event it sends is completed by running the rest with Apollo's executor,
// the event standing in for the primary fetch's answer, exactly as a query would be completed.
import {
  buildOperationContext,
  executeQueryPlan,
  type GraphQLDataSource,
  type ServiceMap,
} from '@apollo/gateway';
import { operationFromDocument, type Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  print,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Logger } from '../lib/logger.ts';
import { EventChannel } from './event-channel.ts';
import { errorResult, maskResult, toGraphQLError } from './gateway-errors.ts';
import type { GatewayContext } from './subgraph-data-source.ts';
import type { UpstreamPool, UpstreamResult } from './upstream-pool.ts';

type RequestContext = Parameters<typeof executeQueryPlan>[2];

export interface Subgraph {
  /** HTTP URL; its graphql-ws endpoint is the same URL over ws://. */
  url: string;
  /** The data source the gateway's queries use, for entity fetches inside events. */
  dataSource: GraphQLDataSource;
}

export interface SubscriptionForwarderOptions {
  supergraph: Supergraph;
  subgraphs: ReadonlyMap<string, Subgraph>;
  upstream: UpstreamPool;
  logger?: Logger;
  /** Events received but not yet sent to a slow subscriber; beyond this it is dropped. */
  maxBufferedEvents?: number;
  /** Events of one subscription whose entity fetches run at the same time. */
  maxConcurrentEvents?: number;
  /** Distinct subscription documents whose plans are kept. */
  planCacheSize?: number;
}

export interface SubscriptionForwarder {
  /** The API schema subscriptions are validated against before they are forwarded. */
  schema: GraphQLSchema;
  subscribe: (args: ExecutionArgs) => AsyncIterable<ExecutionResult> | ExecutionResult;
}

interface Planned {
  primary: FetchNode;
  /** What runs for each event: the primary fetch (answered by the event), then the rest. */
  perEvent: QueryPlan;
}

export function createSubscriptionForwarder(
  options: SubscriptionForwarderOptions,
): SubscriptionForwarder {
  const { supergraph, subgraphs, upstream, logger } = options;
  const { maxBufferedEvents = 1000, maxConcurrentEvents = 8 } = options;
  const planCacheSize = options.planCacheSize ?? 500;
  const apiSchema = supergraph.apiSchema();
  const schema = apiSchema.toGraphQLJSSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const plans = new Map<string, Planned>();
  const onInternal = (error: unknown) =>
    logger?.error({ err: error }, 'subscription: internal error');

  const plan = (args: ExecutionArgs, source: string): Planned => {
    const key = `${args.operationName ?? ''}\n${source}`;
    const cached = plans.get(key);
    if (cached) return cached;
    const operation = operationFromDocument(apiSchema, args.document, {
      ...(args.operationName && { operationName: args.operationName }),
    });
    const node = planner.buildQueryPlan(operation).node;
    if (node?.kind !== 'Subscription') throw new Error('the plan of a subscription has no primary');
    const { primary, rest } = node;
    const steps: PlanNode = rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary;
    const planned = { primary, perEvent: { kind: 'QueryPlan' as const, node: steps } };
    if (plans.size >= planCacheSize) plans.delete(plans.keys().next().value ?? key);
    plans.set(key, planned);
    return planned;
  };

  function subscribe(args: ExecutionArgs): AsyncIterable<ExecutionResult> | ExecutionResult {
    const context = args.contextValue;
    if (!isGatewayContext(context)) return errorResult('UNAUTHENTICATED', 'no verified caller');
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return errorResult('BAD_USER_INPUT', 'no operation to run');
    const variables = { ...args.variableValues };
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) {
      const errors = coerced.errors.map(
        (e) => new GraphQLError(e.message, { extensions: { code: 'BAD_USER_INPUT' } }),
      );
      return { errors };
    }

    const source = print(args.document);
    let planned: Planned;
    try {
      planned = plan(args, source);
    } catch (error) {
      onInternal(error);
      return errorResult('INTERNAL_SERVER_ERROR', 'internal error');
    }
    const { primary, perEvent } = planned;
    const owner = subgraphs.get(primary.serviceName);
    if (!owner) {
      onInternal(new Error(`no URL configured for the ${primary.serviceName} subgraph`));
      return errorResult('INTERNAL_SERVER_ERROR', 'internal error');
    }
    const operationContext = buildOperationContext({
      schema,
      operationDocument: args.document,
      ...(args.operationName && { operationName: args.operationName }),
    });

    // Runs the per-event plan with the owner's data source answering the primary fetch with
    // the event, so entity fetches, error paths and response shaping are Apollo's own.
    const complete = async (event: UpstreamResult): Promise<ExecutionResult> => {
      const replay: GraphQLDataSource = {
        process: (request) =>
          request.request.query === primary.operation
            ? Promise.resolve({ data: event.data, errors: event.errors })
            : owner.dataSource.process(request),
      };
      const serviceMap: ServiceMap = { [primary.serviceName]: replay };
      for (const [name, subgraph] of subgraphs) serviceMap[name] ??= subgraph.dataSource;
      const requestContext = eventRequestContext({
        schema,
        source,
        args,
        operation: operationContext.operation,
        variables,
        context,
        logger,
      });
      const { data, errors } = await executeQueryPlan(
        perEvent,
        serviceMap,
        requestContext,
        operationContext,
        supergraphSchema,
        apiSchema,
      );
      return maskResult({ data, ...(errors && { errors }) }, onInternal);
    };

    const channel = new EventChannel<ExecutionResult>();
    const limit = createLimiter(maxConcurrentEvents);
    // Events are completed concurrently but handed on in the order the subgraph sent them.
    let queue = Promise.resolve();
    let backlog = 0;
    const enqueue = (step: () => Promise<void> | void) => {
      queue = queue.then(step).catch(onInternal);
    };

    const stop = upstream.subscribe(
      owner.url,
      context.internalToken,
      {
        query: primary.operation,
        variables: pick(variables, primary.variableUsages),
        ...(primary.operationName && { operationName: primary.operationName }),
      },
      {
        next: (event) => {
          if (channel.closed) return;
          if (backlog + channel.buffered >= maxBufferedEvents) {
            logger?.warn({ subgraph: primary.serviceName }, 'subscriber too slow; dropped');
            stop();
            channel.endWith(
              errorResult(
                'UNAVAILABLE',
                'events arrived faster than they were read; subscribe again',
              ),
            );
            return;
          }
          backlog += 1;
          // A subscriber gone meanwhile needs no more entity fetches.
          const result = limit(() => (channel.closed ? undefined : complete(event))).catch(
            (error: unknown) => {
              onInternal(error);
              return errorResult('INTERNAL_SERVER_ERROR', 'internal error');
            },
          );
          enqueue(async () => {
            const completed = await result;
            backlog -= 1;
            if (completed) channel.push(completed);
          });
        },
        error: (error) =>
          enqueue(() => {
            channel.push(upstreamFailure(error, primary.serviceName));
            channel.end();
          }),
        complete: () => enqueue(() => channel.end()),
      },
    );
    channel.onClose(stop);
    return channel;
  }

  const upstreamFailure = (error: unknown, serviceName: string): ExecutionResult => {
    // graphql-ws hands over the subgraph's GraphQL errors as an array; anything else is transport.
    if (Array.isArray(error)) {
      return {
        errors: (error as GraphQLFormattedError[]).map((e) => toGraphQLError(e, e, onInternal)),
      };
    }
    logger?.warn({ err: error, subgraph: serviceName }, 'subscription upstream failed');
    return errorResult(
      'UNAVAILABLE',
      `the ${serviceName} service is unavailable; subscribe again later`,
    );
  };

  return { schema, subscribe };
}

/** Runs at most `concurrency` tasks at a time, the others in the order they came. */
function createLimiter(concurrency: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T> | T): Promise<T> => {
    if (running < concurrency) running += 1;
    // A finishing task hands its slot straight to the next waiting one.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

function isGatewayContext(value: unknown): value is GatewayContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<GatewayContext>).internalToken === 'string'
  );
}

function pick(
  variables: Record<string, unknown>,
  names: readonly string[] | undefined,
): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names ?? []) if (name in variables) picked[name] = variables[name];
  return picked;
}

/** What Apollo's executor reads of a request: variables, the context and somewhere to log. */
function eventRequestContext(input: {
  schema: GraphQLSchema;
  source: string;
  args: ExecutionArgs;
  operation: RequestContext['operation'];
  variables: Record<string, unknown>;
  context: GatewayContext;
  logger: Logger | undefined;
}): RequestContext {
  const { schema, source, args, operation, variables, context, logger } = input;
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message?: unknown) =>
    logger?.[level](String(message));
  return {
    request: {
      query: source,
      variables,
      ...(args.operationName && { operationName: args.operationName }),
    },
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    schema,
    // A branded string Apollo uses only for usage reporting, which the gateway does not do.
    schemaHash: '' as RequestContext['schemaHash'],
    context,
    cache: {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => true,
    },
    queryHash: '',
    document: args.document,
    source,
    operationName: args.operationName ?? null,
    operation,
    metrics: {},
    overallCachePolicy: undefined,
  };
}
