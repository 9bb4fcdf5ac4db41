/**
 * The fenced code blocks of a Markdown page. An info string `lang example key=value key="two words"`
 * marks a block the docs test runs; a `json variables` block right after a GraphQL example gives its
 * variables.
 */
export interface DocBlock {
  lang: string;
  /** The words and key=value pairs after the language. */
  meta: Record<string, string | true>;
  code: string;
  /** 1-based line of the opening fence, to name the block in failures. */
  line: number;
  /** For a GraphQL example: the JSON of the variables block that follows it. */
  variables?: string;
}

export function docBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)[ \t]*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const line = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`unclosed code block at line ${line}`);
    const block: DocBlock = { lang: open[1], meta: parseMeta(open[2]), code: body.join('\n'), line };
    const previous = blocks[blocks.length - 1];
    if (block.lang === 'json' && block.meta.variables) {
      if (previous?.lang !== 'graphql' || !previous.meta.example || previous.variables !== undefined) {
        throw new Error(`the variables block at line ${line} does not follow a GraphQL example`);
      }
      previous.variables = block.code;
      continue;
    }
    blocks.push(block);
  }
  return blocks;
}

function parseMeta(info: string): Record<string, string | true> {
  const meta: Record<string, string | true> = {};
  for (const m of info.matchAll(/([\w-]+)(?:=(?:"([^"]*)"|(\S+)))?/g)) meta[m[1]] = m[2] ?? m[3] ?? true;
  return meta;
}

/**
 * Replaces every string `"@path.to.value"` in `value` by what the earlier examples of the page
 * returned at that path (`@createAccount.id`, `@accounts.nodes.0.id`): docs chain examples the way a
 * reader would, pasting an id from one answer into the next request.
 */
export function resolveRefs(value: unknown, results: Record<string, unknown>): unknown {
  if (typeof value === 'string' && value.startsWith('@')) {
    const found = value
      .slice(1)
      .split('.')
      .reduce<unknown>((at, key) => (at == null ? undefined : (at as Record<string, unknown>)[key]), results);
    if (found === undefined) throw new Error(`${value}: no earlier example returned it`);
    return found;
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, results));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, results)]));
  return value;
}
