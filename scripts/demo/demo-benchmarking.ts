// The demo organisation's competitor set (Northwind against its rivals, every platform) and its
// weekly report: made through the API as a user would, once, when the product starts.
import { demoAccounts } from './demo-accounts.ts';

export const DEMO_SET_NAME = 'Northwind vs rivals';
export const DEMO_REPORT_NAME = 'Weekly competitor report';

type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** A GraphQL caller of the gateway with the demo key that throws on any error. */
export function demoGraphQL(gateway: string, apiKey: string): Gql {
  return async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) {
      throw new Error(body.errors?.[0]?.message ?? `HTTP ${res.status}`);
    }
    return body.data;
  };
}

/** Creates the demo set and the weekly report unless they exist; answers the report's id. */
export async function ensureDemoBenchmarking(gql: Gql): Promise<string> {
  const { competitorSets } = await gql<{ competitorSets: { id: string; name: string }[] }>(
    '{ competitorSets { id name } }',
  );
  let setId = competitorSets.find((s) => s.name === DEMO_SET_NAME)?.id;
  if (!setId) {
    const accountIds = demoAccounts()
      .filter((a) => a.platform !== 'app')
      .map((a) => a.id);
    const { createCompetitorSet } = await gql<{ createCompetitorSet: { id: string } }>(
      'mutation($name: String!, $ids: [ID!]!) { createCompetitorSet(name: $name, accountIds: $ids) { id } }',
      { name: DEMO_SET_NAME, ids: accountIds },
    );
    setId = createCompetitorSet.id;
  }
  const { reportSchedules } = await gql<{ reportSchedules: { id: string; name: string }[] }>(
    '{ reportSchedules { id name } }',
  );
  const existing = reportSchedules.find((s) => s.name === DEMO_REPORT_NAME);
  if (existing) return existing.id;
  const { createReportSchedule } = await gql<{ createReportSchedule: { id: string } }>(
    'mutation($input: ReportScheduleInput!) { createReportSchedule(input: $input) { id } }',
    {
      input: {
        name: DEMO_REPORT_NAME,
        format: 'PDF',
        // Monday 08:00 in Seattle, for the week just ended.
        cron: '0 8 * * 1',
        timezone: 'America/Los_Angeles',
        competitorSetId: setId,
        metrics: ['followers', 'likes', 'comments', 'shares', 'engagements'],
        rangeRule: 'LAST_7_DAYS',
        recipients: ['marketing@northwind.example'],
      },
    },
  );
  return createReportSchedule.id;
}
