// Trusted documents for partners: a partner key runs only the operations published for its
// client, sent by id (Apollo's persisted query manifest ids, in `extensions.persistedQuery`). In
// `enforce` mode a full document, or an id another client published, is refused with its own
// code; in `audit` mode anything runs, and what the manifest does not hold is counted.
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequest } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Caller } from '../lib/auth/caller.ts';
import type { Logger } from '../lib/logger.ts';
import type { MetaQuery } from '../lib/meta/meta.port.ts';
import {
  clientPolicy,
  recordUnknownOperation,
  type ClientPolicy,
} from '../lib/meta/partner-clients.repo.ts';
import type { GatewayContext } from './subgraph-data-source.ts';

/** How long a client's policy is reused; a publish elsewhere takes effect within this. */
const POLICY_TTL_MS = 5_000;
/** Run in place of a refused request, so Apollo never looks its hash up as an APQ. */
const PLACEHOLDER = '{ __typename }';

export interface TrustedDocuments {
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Drops the remembered policy of a client, after a publish, restore or mode change here. */
  forget(orgId: string, client: string): void;
}

type Verdict = { run: string; unknown?: true } | { refuse: GraphQLError };

export function createTrustedDocuments(deps: {
  meta: MetaQuery;
  logger?: Logger;
  now?: () => number;
}): TrustedDocuments {
  const { meta, logger, now = Date.now } = deps;
  const policies = new Map<string, { policy: Promise<ClientPolicy | null>; until: number }>();

  const policyOf = (caller: Caller): Promise<ClientPolicy | null> => {
    const id = `${caller.orgId}\n${caller.client ?? ''}`;
    const kept = policies.get(id);
    if (kept && kept.until > now()) return kept.policy;
    const policy = clientPolicy(meta, caller.orgId, caller.client ?? '');
    policies.set(id, { policy, until: now() + POLICY_TTL_MS });
    policy.catch(() => policies.delete(id));
    return policy;
  };

  const admit = async (caller: Caller, request: GraphQLRequest): Promise<Verdict> => {
    const client = caller.client ?? '';
    const policy = await policyOf(caller);
    if (!policy) {
      return refuse(
        'PERSISTED_QUERY_NOT_IN_LIST',
        `partner client ${JSON.stringify(client)} is not registered; ask the organisation's admin`,
      );
    }
    const id = persistedId(request);
    const listed = id === undefined ? undefined : policy.operations.get(id);
    if (request.query === undefined) {
      if (listed) return { run: listed.body };
      return refuse(
        'PERSISTED_QUERY_NOT_IN_LIST',
        id === undefined
          ? 'send the id of a published operation in extensions.persistedQuery.sha256Hash'
          : `operation ${id} is not published for client ${JSON.stringify(client)}`,
      );
    }
    if (listed && listed.body === request.query) return { run: listed.body };
    if (policy.mode === 'enforce') {
      return refuse(
        'PERSISTED_QUERY_ID_REQUIRED',
        `client ${JSON.stringify(client)} runs only its published operations, by id: send extensions.persistedQuery.sha256Hash and no query`,
      );
    }
    // Audit: it runs, and is counted unless the manifest holds the same text under another id.
    const known = [...policy.operations.values()].some((op) => op.body === request.query);
    return { run: request.query, ...(!known && { unknown: true }) };
  };

  /** Counts an audit client's unknown operation, under the name its document gives it. */
  const record = (caller: Caller, body: string, name: string | null) => {
    const client = caller.client ?? '';
    recordUnknownOperation(meta, caller.orgId, client, {
      hash: createHash('sha256').update(body).digest('hex'),
      name,
      body,
    }).catch((error: unknown) =>
      logger?.warn({ err: error, client }, 'could not record an unknown partner operation'),
    );
  };

  return {
    plugin: {
      async requestDidStart({ request, contextValue }) {
        if (contextValue.caller.role !== 'partner') return;
        const verdict = await admit(contextValue.caller, request);
        // Apollo reads the request after this hook: the document to run replaces what was sent.
        if (request.extensions) delete request.extensions['persistedQuery'];
        if ('run' in verdict) {
          const body = verdict.run;
          request.query = body;
          if (!verdict.unknown) return;
          return {
            // Only a document that parses and validates is counted; the rest fail as for anyone.
            async didResolveOperation({ operationName }) {
              record(contextValue.caller, body, operationName);
            },
          };
        }
        request.query = PLACEHOLDER;
        const { refuse: error } = verdict;
        return {
          async didResolveOperation() {
            throw error;
          },
        };
      },
    },
    forget(orgId, client) {
      policies.delete(`${orgId}\n${client}`);
    },
  };
}

function persistedId(request: GraphQLRequest): string | undefined {
  const persisted = request.extensions?.['persistedQuery'] as { sha256Hash?: unknown } | undefined;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

function refuse(code: string, message: string): Verdict {
  return { refuse: new GraphQLError(message, { extensions: { code, http: { status: 403 } } }) };
}
