// A self-hosted GraphiQL at GET /explorer: the page and its scripts (GraphiQL, React, graphql-ws)
// are served from this project's own node_modules, so it works with no internet. It has a field
// for the API key, opens with the README's queries as tabs, and runs subscriptions over graphql-ws.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse, print } from 'graphql';

const require = createRequire(import.meta.url);
const DAY_MS = 86_400_000;

/** Each served file: its package, its path inside it (browser builds, not in `exports`), type. */
const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': {
    pkg: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript',
  },
  'graphql-ws.js': { pkg: 'graphql-ws', file: 'umd/graphql-ws.min.js', type: 'text/javascript' },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

/** The directory of an installed package, found from its entry point. */
function packageDir(pkg: string): string {
  const entry = require.resolve(pkg);
  const at = entry.lastIndexOf(`/node_modules/${pkg}/`);
  return entry.slice(0, at + `/node_modules/${pkg}/`.length);
}

export interface ExplorerTab {
  query: string;
  variables?: string;
}

/**
 * The README's example queries (the `"query": "…"` of its curl commands), pretty-printed, with
 * their variables; the shell's `$(date -u -d '30 days ago' …)` become the instants they name.
 */
export function readmeExamples(readme: string, now = Date.now()): ExplorerTab[] {
  const tabs: ExplorerTab[] = [];
  const blocks = readme.matchAll(/"query": "((?:[^"\\]|\\.)*)"(?:,\s*"variables": (\{[^\n]*\}))?/g);
  for (const [, raw, variables] of blocks) {
    let query: string;
    try {
      query = print(parse(JSON.parse(`"${raw}"`) as string));
    } catch {
      continue; // a README example that is not a document (it would fail the README's own test)
    }
    const tab: ExplorerTab = { query };
    if (variables) {
      const resolved = variables.replace(
        /'\$\(date -u(?: -d '([^']+)'| -d (\w+))? \+([^)]+)\)'/g,
        (_, ago: string | undefined, word: string | undefined, format: string) =>
          instant(ago ?? word, format, now),
      );
      try {
        tab.variables = JSON.stringify(JSON.parse(resolved), null, 2);
      } catch {
        // Left without variables: the editor shows what the query needs.
      }
    }
    tabs.push(tab);
  }
  return tabs;
}

function instant(when: string | undefined, format: string, now: number): string {
  const days =
    when === 'tomorrow' ? 1 : when ? -Number(/^(\d+) days ago$/.exec(when)?.[1] ?? 0) : 0;
  const at = new Date(now + days * DAY_MS).toISOString();
  const time = /%FT(\d\d:\d\d:\d\d)Z/.exec(format)?.[1];
  return time ? `${at.slice(0, 10)}T${time}Z` : at.replace(/\.\d{3}Z$/, 'Z');
}

function page(tabs: readonly ExplorerTab[]): string {
  // Embedded as JSON in a script: `<` escaped, so no example can close the tag.
  const examples = JSON.stringify(tabs).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Loupe explorer</title>
<link rel="stylesheet" href="/explorer/assets/graphiql.css">
<style>
  html, body { height: 100%; margin: 0; }
  body { display: flex; flex-direction: column; font: 14px system-ui, sans-serif; }
  #bar { padding: 8px 12px; background: #f6f7f9; border-bottom: 1px solid #ddd; }
  #bar input { width: 28em; font: inherit; }
  #graphiql { flex: 1; min-height: 0; }
</style>
</head>
<body>
<div id="bar"><label>API key <input id="api-key" placeholder="loupe_…" autocomplete="off"></label></div>
<div id="graphiql"></div>
<script src="/explorer/assets/react.js"></script>
<script src="/explorer/assets/react-dom.js"></script>
<script src="/explorer/assets/graphql-ws.js"></script>
<script src="/explorer/assets/graphiql.js"></script>
<script>
  const examples = ${examples};
  const input = document.getElementById('api-key');
  input.value = localStorage.getItem('loupe.apiKey') || '';
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  let ws;
  function render() {
    const apiKey = input.value.trim();
    localStorage.setItem('loupe.apiKey', apiKey);
    const url = new URL('/graphql', location.href).href;
    if (ws) ws.dispose();
    ws = graphqlWs.createClient({ url: url.replace(/^http/, 'ws'), connectionParams: { apiKey }, lazy: true });
    const http = GraphiQL.createFetcher({ url, headers: { 'x-api-key': apiKey } });
    // The transport follows the text sent: a subscription always goes over graphql-ws.
    const fetcher = (params, options) =>
      params.query.trimStart().startsWith('subscription')
        ? ws.iterate({ query: params.query, variables: params.variables, operationName: params.operationName || undefined })
        : http(params, options);
    root.render(React.createElement(GraphiQL, { key: apiKey, fetcher, defaultTabs: examples }));
  }
  input.addEventListener('change', render);
  render();
</script>
</body>
</html>
`;
}

/** Serves the explorer's routes; false for any other path. */
export function createExplorer(
  readme: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const html = page(readme ? readmeExamples(readme) : []);
  const assets = new Map(
    Object.entries(ASSETS).map(([name, { pkg, file, type }]) => [
      name,
      { body: readFileSync(join(packageDir(pkg), file)), type },
    ]),
  );
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/explorer' || path === '/explorer/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        // Everything the page needs comes from this server.
        'content-security-policy':
          "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:",
      });
      res.end(html);
      return true;
    }
    const asset = path.startsWith('/explorer/assets/') ? assets.get(path.slice(17)) : undefined;
    if (!asset) return false;
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
    res.end(asset.body);
    return true;
  };
}
