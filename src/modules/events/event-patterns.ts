import { badField } from '../../kernel/errors';

/** An event type pattern: `opportunity.won`, `opportunity.*` or `*` (webhooks and automation triggers). */
const PATTERN = /^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$/;

/** True when the event type matches one of the patterns. */
export function matchesPatterns(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/** The patterns trimmed and deduplicated, or BAD_USER_INPUT on `field` naming the first bad one. */
export function checkPatterns(patterns: string[], field: string): string[] {
  const out = [...new Set(patterns.map((p) => p.trim()))];
  if (!out.length) throw badField(field, 'give at least one event pattern');
  const bad = out.find((p) => !PATTERN.test(p));
  if (bad !== undefined) throw badField(field, `"${bad.slice(0, 100)}" is not an event pattern (\`opportunity.won\`, \`opportunity.*\` or \`*\`)`);
  return out;
}
