/**
 * Only this server's own files run on the page. Styles may be inline because GraphiQL (CodeMirror,
 * its popovers) sets style attributes; its fonts and a few images are data: URIs in its CSS.
 * connect-src takes ws:/wss: for subscriptions, as 'self' does not cover WebSockets in every browser.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface PageOptions {
  /** Where the versioned assets are served, e.g. /explorer/assets/<build>. */
  assets: string;
  endpoint: string;
  /** The headers editor's initial content (JSON text). */
  headers: string;
  /** The query editor's content on a first visit (GraphiQL keeps the user's own after that). */
  defaultQuery?: string;
}

/**
 * What the explorer opens on: a question about the demo data (the Maven CRM sample) that shows
 * relations, money, filters and ordering in one run. Kept valid against the schema by a test.
 */
export const SAMPLE_QUERY = `# Welcome to Trellis. Press Ctrl-Enter (or the run button) to ask the demo workspace
# for its five biggest open deals, with their stage, account and owner.
# Ctrl-Space completes names; the Docs panel lists every query, mutation and type.
query BiggestOpenDeals {
  opportunities(
    first: 5
    filter: { status: { eq: OPEN } }
    orderBy: [{ field: AMOUNT, direction: DESC }]
  ) {
    totalCount
    nodes {
      name
      amount { amount currency }
      stage { name probability }
      account { name industry }
      owner { name email }
    }
  }
}
`;

/** Script files in load order: GraphiQL's UMD build expects React and ReactDOM as globals. */
const SCRIPTS = ['react.production.min.js', 'react-dom.production.min.js', 'graphql-ws.min.js', 'graphiql.min.js', 'explorer.js'];

/** The page: no inline script; its settings travel in a JSON block that the browser does not run. */
export function renderPage({ assets, endpoint, headers, defaultQuery = SAMPLE_QUERY }: PageOptions): string {
  // `<` escaped so that no value can close the script element.
  const config = JSON.stringify({ endpoint, headers, defaultQuery }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trellis GraphQL explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets}/graphiql.min.css">
<link rel="stylesheet" href="${assets}/explorer.css">
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<noscript>The explorer needs JavaScript.</noscript>
<script type="application/json" id="trellis-explorer-config">${config}</script>
${SCRIPTS.map((s) => `<script src="${assets}/${s}"></script>`).join('\n')}
</body>
</html>
`;
}
