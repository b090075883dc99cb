// The baseline of the gateway benchmark: Apollo's gateway as its documentation sets it up, with
// its default data sources and fetcher, over the same supergraph and subgraphs as Loupe's. It
// checks nothing: every request goes to the subgraphs as one fixed caller, signed once, which is
// all a Loupe subgraph needs to answer (lib/auth/internal-token.ts).
import { readFile } from 'node:fs/promises';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { INTERNAL_CALLER_HEADER } from '../../lib/auth/internal-token.ts';
import { SUPERGRAPH_PATH } from '../../schema/compose.ts';

export async function startPlainGateway(
  subgraphUrls: Record<string, string>,
  callerToken: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const gateway = new ApolloGateway({
    supergraphSdl: await readFile(SUPERGRAPH_PATH, 'utf8'),
    buildService: ({ name }) =>
      new RemoteGraphQLDataSource({
        url: subgraphUrls[name],
        willSendRequest({ request }) {
          request.http?.headers.set(INTERNAL_CALLER_HEADER, callerToken);
        },
      }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, close: () => server.stop() };
}
