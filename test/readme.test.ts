import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { MAX_PAGE_SIZE } from '../src/data/connection';
import { docBlocks } from './helpers/doc-blocks';

// What a newcomer reads first, checked as they would use it (issue 18, point 7): links that lead
// somewhere in this repository, shell lines whose variables were set before, page sizes as the server has them.
const ROOT = join(__dirname, '..', '..');
const MARKDOWN = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'examples/README.md',
  'scripts/bench/README.md',
  ...readdirSync(join(ROOT, 'demo'))
    .map((d) => `demo/${d}/README.md`)
    .filter((f) => existsSync(join(ROOT, f))),
];

describe('the README and the docs, as a newcomer reads them', () => {
  it.each(MARKDOWN)('%s: every relative link (or ../ path) leads to a file or folder inside the repository', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const broken: string[] = [];
    // Markdown links, and paths written as code that climb out of the file's folder (`../shared/API.md`).
    for (const m of [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/`(\.\.\/[^`\s]+)`/g)]) {
      const target = m[1].split('#')[0];
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const path = resolve(ROOT, dirname(file), target);
      if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(m[1]);
    }
    expect(broken).toEqual([]);
  });

  it("README: every shell variable a command uses is set earlier in the README (or is the shell's own)", () => {
    const set = new Set(['HOME', 'PATH', 'PWD']);
    const unset: string[] = [];
    for (const block of docBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((b) => b.lang === 'sh')) {
      // Single-quoted text (over several lines too) is not expanded by the shell: a GraphQL `$id` there is not a variable.
      for (const line of block.code.replace(/'[^']*'/g, "''").split('\n')) {
        const expanded = line.replace(/(^|\s)#.*$/, '');
        for (const m of expanded.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) if (!set.has(m[1])) unset.push(`${m[1]} in: ${line.trim()}`);
        for (const m of expanded.matchAll(/(?:^|\s|export\s+)([A-Za-z_][A-Za-z0-9_]*)=/g)) set.add(m[1]);
      }
    }
    expect(unset).toEqual([]);
  });

  it.each(MARKDOWN)(`%s: a page size it states is the server's (${MAX_PAGE_SIZE})`, (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const stated = [...text.matchAll(/(?:`first`|page[^.]{0,40}?)\s*\(?(?:default \d+, )?at most ([\d,]+)\)?/gi)].map((m) => Number(m[1].replace(/,/g, '')));
    for (const n of stated) expect(n).toBe(MAX_PAGE_SIZE);
  });
});
