// `npm run subscribe -- <accountId>...`: prints live metric ticks from the gateway, one per line.
// Options: --key (default: the demo key) and --url (default: the local gateway).
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: 'string', default: 'loupe_demo_0000000000000000' },
    url: { type: 'string', default: 'ws://localhost:4000/graphql' },
  },
});
if (positionals.length === 0) {
  console.error('usage: npm run subscribe -- [--key <api key>] [--url <ws url>] <accountId>...');
  process.exit(2);
}

const client = createClient({
  url: values.url,
  webSocketImpl: WebSocket,
  connectionParams: { apiKey: values.key },
  retryAttempts: 0,
});
const query = `subscription ($ids: [ID!]!) {
  metricTicks(accountIds: $ids) { account { id } metric delta hourValue at }
}`;
console.error(`subscribed to ${positionals.join(', ')} at ${values.url}; Ctrl-C to stop`);
client.subscribe(
  { query, variables: { ids: positionals } },
  {
    next: (result) => console.log(JSON.stringify(result.data ?? result)),
    error: (error: unknown) => {
      console.error('subscription failed:', error instanceof Error ? error.message : error);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
