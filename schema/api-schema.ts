// The API schema callers see: the checked-in supergraph without its federation machinery. Partner
// manifests are validated against it before they are published.
import { readFile } from 'node:fs/promises';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { SUPERGRAPH_PATH } from './compose.ts';

export async function loadApiSchema(): Promise<GraphQLSchema> {
  const sdl = await readFile(SUPERGRAPH_PATH, 'utf8');
  return Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
}
