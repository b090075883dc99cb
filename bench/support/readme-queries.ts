// The README's dashboard query (every Instagram account with its profile, audience and 30 days of
// metrics) as request bodies, for the load that benchmarks and tests send through the gateway.

const DAY_MS = 86_400_000;

export const DASHBOARD_QUERY = /* GraphQL */ `
  query ($from: DateTime!, $to: DateTime!) {
    accounts(platform: INSTAGRAM) {
      id
      platform
      profile {
        handle
        followers
      }
      audience {
        country {
          key
          share
        }
      }
      metrics(
        range: { from: $from, to: $to }
        granularity: DAY
        metrics: [LIKES, VIEWS, FOLLOWERS]
      ) {
        series {
          metric
          total
          points {
            at
            value
          }
        }
      }
    }
  }
`;

/** The dashboard query over the 30 days before now (to tomorrow), as a POST body. */
export function dashboardBody(now = Date.now()): string {
  return JSON.stringify({
    query: DASHBOARD_QUERY,
    variables: {
      from: new Date(now - 30 * DAY_MS).toISOString(),
      to: new Date(now + DAY_MS).toISOString(),
    },
  });
}

/** The cheapest query that still goes through a subgraph: the usual time of a plain answer. */
export function plainBody(): string {
  return JSON.stringify({ query: '{ accounts { id } }' });
}
