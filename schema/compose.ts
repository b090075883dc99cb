// Composes the subgraph SDLs into the supergraph the gateway serves (no network, no rover).
import { readFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from '../lib/config.ts';

const here = new URL('.', import.meta.url);

/** The URL written into the supergraph; the gateway replaces it with the configured one. */
export function defaultSubgraphUrl(index: number): string {
  return `http://localhost:${4001 + index}/graphql`;
}

export async function readSubgraphSdl(name: string): Promise<string> {
  return readFile(new URL(`subgraphs/${name}.graphql`, here), 'utf8');
}

export async function composeSupergraph(): Promise<string> {
  const services = await Promise.all(
    SUBGRAPHS.map(async (name, i) => ({
      name,
      url: defaultSubgraphUrl(i),
      typeDefs: parse(await readSubgraphSdl(name)),
    })),
  );
  const result = composeServices(services);
  if (result.errors) {
    throw new Error(
      `composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
  }
  return result.supergraphSdl;
}

export const SUPERGRAPH_PATH = new URL('supergraph.graphql', here);
