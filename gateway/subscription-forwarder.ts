// @apollo/gateway executes no subscriptions, so the gateway forwards each one over graphql-ws to
// the subgraph that owns its root field, passing the caller's API key on, and relays every result.
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createClient } from 'graphql-ws';
import {
  GraphQLError,
  Kind,
  parse,
  print,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import WebSocket from 'ws';
import type { SubgraphName } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';

export interface ForwardContext {
  apiKey: string;
}

/** Subgraph owning each Subscription root field, read from the supergraph's join directives. */
export function subscriptionOwners(supergraphSdl: string): Map<string, string> {
  const doc = parse(supergraphSdl);
  const graphNames = new Map<string, string>();
  const owners = new Map<string, string>();
  const argument = (
    node: { arguments?: readonly { name: { value: string }; value: unknown }[] },
    name: string,
  ) => {
    const value = node.arguments?.find((a) => a.name.value === name)?.value as
      { kind: string; value?: string } | undefined;
    return value?.value;
  };
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph') {
      for (const v of def.values ?? []) {
        const graph = v.directives?.find((d) => d.name.value === 'join__graph');
        const name = graph && argument(graph, 'name');
        if (name) graphNames.set(v.name.value, name);
      }
    }
  }
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION || def.name.value !== 'Subscription') continue;
    const typeGraph = def.directives?.find((d) => d.name.value === 'join__type');
    for (const field of def.fields ?? []) {
      const fieldGraph = field.directives?.find((d) => d.name.value === 'join__field');
      const graph =
        (fieldGraph && argument(fieldGraph, 'graph')) ??
        (typeGraph && argument(typeGraph, 'graph'));
      const name = graph ? graphNames.get(graph) : undefined;
      if (name) owners.set(field.name.value, name);
    }
  }
  return owners;
}

function rootFields(operation: OperationDefinitionNode): string[] {
  return operation.selectionSet.selections.flatMap((s) =>
    s.kind === Kind.FIELD && s.name.value !== '__typename' ? [s.name.value] : [],
  );
}

function errorResult(message: string, code: string): ExecutionResult {
  return { errors: [new GraphQLError(message, { extensions: { code } })] };
}

export function createSubscriptionForwarder(deps: {
  supergraphSdl: string;
  /** HTTP URL of each subgraph; its graphql-ws endpoint is the same URL over ws://. */
  subgraphUrls: Record<SubgraphName, string>;
  logger?: Logger;
}) {
  const owners = subscriptionOwners(deps.supergraphSdl);
  // Each owner's own schema: a subscription may select only fields that subgraph can resolve.
  const ownerSchemas = new Map<string, GraphQLSchema>();
  const ownerSchema = (name: string): GraphQLSchema => {
    let schema = ownerSchemas.get(name);
    if (!schema) {
      const sdl = readFileSync(
        new URL(`../schema/subgraphs/${name}.graphql`, import.meta.url),
        'utf8',
      );
      schema = buildSubgraphSchema(parse(sdl));
      ownerSchemas.set(name, schema);
    }
    return schema;
  };

  return function subscribe(args: ExecutionArgs): AsyncIterable<ExecutionResult> | ExecutionResult {
    const operation = args.document.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === Kind.OPERATION_DEFINITION &&
        (args.operationName == null || d.name?.value === args.operationName),
    );
    if (!operation) return errorResult('no operation to run', 'BAD_USER_INPUT');
    const subgraphs = new Set(rootFields(operation).map((f) => owners.get(f)));
    const [owner] = subgraphs;
    if (subgraphs.size !== 1 || owner === undefined) {
      return errorResult(
        'a subscription must select root fields of one subgraph',
        'BAD_USER_INPUT',
      );
    }
    const ownerErrors = validate(ownerSchema(owner), args.document);
    if (ownerErrors.length > 0) {
      return errorResult(
        `subscriptions can select only fields served by the ${owner} subgraph for now: ${ownerErrors[0]?.message ?? ''}`,
        'BAD_USER_INPUT',
      );
    }
    const context = args.contextValue as ForwardContext;
    const url = deps.subgraphUrls[owner as SubgraphName].replace(/^http/, 'ws');
    const payload = {
      query: print(args.document),
      variables: (args.variableValues ?? {}) as Record<string, unknown>,
      ...(args.operationName ? { operationName: args.operationName } : {}),
    };
    return relay(url, context.apiKey, payload, deps.logger);
  };
}

async function* relay(
  url: string,
  apiKey: string,
  payload: { query: string; variables: Record<string, unknown>; operationName?: string },
  logger?: Logger,
): AsyncGenerator<ExecutionResult> {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { apiKey },
    retryAttempts: 0,
    lazy: true,
  });
  try {
    for await (const result of client.iterate(payload)) yield result as ExecutionResult;
  } catch (error) {
    // graphql-ws rejects with the subgraph's GraphQL errors, or with a close event / Error.
    if (Array.isArray(error)) {
      yield {
        errors: error.map(
          (e: { message: string; extensions?: Record<string, unknown> }) =>
            new GraphQLError(e.message, { extensions: e.extensions ?? {} }),
        ),
      };
    } else {
      logger?.warn({ err: error, url }, 'subscription upstream failed');
      yield errorResult(
        'the live metrics service is unavailable; resubscribe later',
        'UNAVAILABLE',
      );
    }
  } finally {
    await client.dispose();
  }
}
