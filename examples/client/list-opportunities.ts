// Lists the open opportunities, biggest first, page by page, with the typed document that
// `npm run codegen` generates from open-opportunities.graphql.
//
//   TRELLIS_API_KEY=trl_... node dist/examples/client/list-opportunities.js   (after `npx tsc -p examples`)
import { OpenOpportunitiesDocument, type OpenOpportunitiesQuery } from '../generated/graphql';
import { createTrellisClient } from './trellis';

type Deal = OpenOpportunitiesQuery['opportunities']['nodes'][number];

const describe = (d: Deal): string =>
  [
    d.name.padEnd(40),
    (d.amount ? `${d.amount.amount} ${d.amount.currency}` : '-').padStart(16),
    `${d.stage.name} (${d.stage.probability}%)`.padEnd(22),
    d.account?.name ?? '-',
    d.owner?.name ?? 'unassigned',
  ].join('  ');

async function main(): Promise<void> {
  const apiKey = process.env.TRELLIS_API_KEY;
  if (!apiKey) throw new Error('set TRELLIS_API_KEY (an API key with the READ scope)');
  const client = createTrellisClient(process.env.TRELLIS_URL ?? 'http://localhost:4000/graphql', apiKey);
  const pages = Number(process.env.PAGES ?? 2);

  let after: string | null = null;
  for (let page = 0; page < pages; page++) {
    // The variables and the result are typed: `first` must be an Int, `nodes` are Deals.
    const { opportunities }: OpenOpportunitiesQuery = await client.request(OpenOpportunitiesDocument, { first: 20, after });
    if (page === 0) console.log(`${opportunities.totalCount} open opportunities`);
    for (const deal of opportunities.nodes) console.log(describe(deal));
    if (!opportunities.pageInfo.hasNextPage) break;
    // Keyset pagination: the next page starts after the last record of this one.
    after = opportunities.pageInfo.endCursor;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
