import { Lexer, Source, TokenKind } from 'graphql';

/**
 * GraphQL documents of a chosen size, to test the limits on a document at their edges (shared by
 * test/limits.test.ts over HTTP and the hardening suite's query bombs over HTTP and WebSocket).
 */

/** A query `depth` fields deep: users > nodes > team > members > team > ... > id. */
export function queryOfDepth(depth: number): string {
  // users (1) > nodes (2) > team > manager > team > ... > id (the leaf): depth - 3 links between.
  // Single-record links, so that only the depth limit speaks (a chain of lists is a cost bomb).
  const links = Array.from({ length: depth - 3 }, (_, i) => (i % 2 === 0 ? 'team' : 'manager'));
  const inner = links.reduceRight((acc, field) => `${field} { ${acc} }`, 'id');
  return `{ users { nodes { ${inner} } } }`;
}

/** How many tokens the parser counts in a document (comments and the end are not tokens). */
export function countTokens(query: string): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

/**
 * A valid query of exactly `tokens` tokens: a users list filtered by long `notIn` lists (at most
 * 1000 values each, as the filter allows), which no other limit counts. Many copies of one field
 * would trip graphql-js's own overlapping-fields budget instead.
 */
export function queryOfTokens(tokens: number): string {
  const build = (values: number) => {
    const lists: string[] = [];
    for (let left = values; left > 0; left -= 1000) lists.push(`{ name: { notIn: [${'"x" '.repeat(Math.min(left, 1000))}] } }`);
    return `{ users(filter: { and: [${lists.join(' ')}] }) { totalCount } }`;
  };
  let values = tokens;
  for (let i = 0; i < 10; i++) {
    const diff = tokens - countTokens(build(values));
    if (diff === 0) return build(values);
    values += diff;
  }
  throw new Error(`cannot build a query of ${tokens} tokens`);
}
