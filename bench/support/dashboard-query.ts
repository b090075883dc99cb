// The dashboard a social team opens: every metric and the engagement rate of one account, by day
// in the organisation's time zone; the dashboard and gateway benchmarks both send it.
export const DASHBOARD_QUERY = /* GraphQL */ `
  query Dashboard($id: ID!, $from: DateTime!, $to: DateTime!) {
    account(id: $id) {
      id
      metrics(range: { from: $from, to: $to }, granularity: DAY) {
        live
        timeZone
        engagementRate {
          total
          points {
            at
            value
          }
        }
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
