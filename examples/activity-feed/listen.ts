// Prints the workspace's activities as they are logged, changed and completed, over graphql-ws on
// the GraphQL path itself. It reconnects on its own when the connection drops (a deploy, a network
// blip); events committed while it was away are in the change feed (`changes(after: cursor)`).
//
//   TRELLIS_API_KEY=trl_... node dist/examples/activity-feed/listen.js   (after `npx tsc -p examples`)
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ActivityFeedDocument, type ActivityFeedSubscription, type ActivityFeedSubscriptionVariables, type ActivityType } from '../generated/graphql';

async function main(): Promise<void> {
  const apiKey = process.env.TRELLIS_API_KEY;
  if (!apiKey) throw new Error('set TRELLIS_API_KEY (an API key with the READ scope)');
  const client = createClient({
    url: process.env.TRELLIS_WS_URL ?? 'ws://localhost:4000/graphql',
    // Node 20 has no global WebSocket; browsers need no such line.
    webSocketImpl: WebSocket,
    // Credentials travel in connection_init, not in the URL (where proxies would log them).
    connectionParams: { authorization: `Bearer ${apiKey}` },
    retryAttempts: Infinity,
    // Retry closes too (a restarting server closes with 1012), not only network errors.
    shouldRetry: () => true,
    on: { connected: () => console.error('connected') },
  });

  // ONLY_TYPES=CALL,MEETING narrows the feed with the same filter `activities` takes; without it,
  // every activity the key may read.
  const types = process.env.ONLY_TYPES?.split(',') as ActivityType[] | undefined;
  const variables: ActivityFeedSubscriptionVariables = { filter: types ? { type: { in: types } } : null };
  for await (const result of client.iterate<ActivityFeedSubscription>({ query: print(ActivityFeedDocument), variables })) {
    if (result.errors) throw new Error(result.errors.map((e) => e.message).join('; '));
    const { action, activity, occurredAt, actor } = result.data!.activityFeed;
    console.log(
      `${occurredAt}  ${action.padEnd(9)}  ${activity.type.padEnd(7)}  ${activity.subject}  (${activity.owner?.name ?? 'no owner'}; by ${actor.type})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
