// Per-request state (DataLoaders) keyed by the request's context object, which lives exactly as
// long as the request: nothing is shared between callers or organisations.
import type { SubgraphContext } from './subgraph-context.ts';

export function perRequest<T>(create: (ctx: SubgraphContext) => T): (ctx: SubgraphContext) => T {
  const scopes = new WeakMap<SubgraphContext, T>();
  return (ctx) => {
    let scope = scopes.get(ctx);
    if (scope === undefined) {
      scope = create(ctx);
      scopes.set(ctx, scope);
    }
    return scope;
  };
}
