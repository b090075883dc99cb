// `npm run compose`: rewrites schema/supergraph.graphql from the subgraph SDLs.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { composeSupergraph, SUPERGRAPH_PATH } from '../schema/compose.ts';

const sdl = await composeSupergraph();
await writeFile(SUPERGRAPH_PATH, sdl);
console.log(`wrote ${fileURLToPath(SUPERGRAPH_PATH)} (${sdl.length} bytes)`);
