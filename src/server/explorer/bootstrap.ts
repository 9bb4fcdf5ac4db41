/**
 * The browser side of the explorer, served as /explorer/assets/<build>/explorer.js. It is kept as a
 * string so that it ships inside dist/ with the server (the Docker image copies dist/src only) and
 * is served as a file: the page's Content-Security-Policy allows no inline script.
 *
 * Subscriptions go over graphql-ws, where Trellis authenticates once, on connect, from
 * `connectionParams.authorization` (no Authorization header exists on a browser WebSocket). So the
 * fetcher remembers the Authorization of the headers editor at every run, connectionParams reads
 * it, and a socket opened with another credential is dropped so the next one connects with the new one.
 */
export const BOOTSTRAP_JS = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('trellis-explorer-config').textContent);
  var httpUrl = new URL(config.endpoint, location.href);
  var wsUrl = new URL(httpUrl.href);
  wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  var authorization = '';
  function authorizationOf(headers) {
    for (var name in headers || {}) if (name.toLowerCase() === 'authorization') return String(headers[name]);
    return '';
  }

  var wsClient = graphqlWs.createClient({
    url: wsUrl.href,
    connectionParams: function () { return { authorization: authorization }; },
    // 4403 means the credential was refused: retrying with the same one cannot help.
    shouldRetry: function (e) { return !!e && typeof e.code === 'number' && e.code !== 4403; },
  });

  var graphiqlFetcher = GraphiQL.createFetcher({
    url: httpUrl.href,
    // Given a wsClient the toolkit uses it for subscriptions; with subscriptionUrl alone it would
    // create (and never dispose) a client per run, sending the whole headers object on connect.
    wsClient: wsClient,
    // Trellis does not support @defer/@stream: plain JSON responses only.
    enableIncrementalDelivery: false,
  });

  function fetcher(params, opts) {
    var next = authorizationOf(opts && opts.headers);
    if (next !== authorization) {
      authorization = next;
      // A no-op without a socket; with one, it reconnects (and resubscribes) as the new credential.
      wsClient.terminate();
    }
    return graphiqlFetcher(params, opts);
  }

  var query = new URLSearchParams(location.search).get('query');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      query: query || undefined,
      defaultQuery: config.defaultQuery,
      headers: config.headers,
      defaultHeaders: config.headers,
      // Tokens and API keys stay out of localStorage.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
`;

/** GraphiQL needs its container to fill the window. */
export const EXPLORER_CSS = `html, body, #graphiql { height: 100%; margin: 0; }
`;
