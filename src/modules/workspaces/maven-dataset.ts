import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

// The dataset's reading, shared by the demo loader and scripts/import-maven.ts (which must not load
// the service's entities: it talks to the API only).

/** The Maven Analytics CRM sample (a copy of shared/datasets/maven-crm, kept with the code). */
export const MAVEN_DIR = join(__dirname, '..', '..', '..', '..', 'demo', 'maven-crm');

type Row = Record<string, string>;
/** A CSV file of the dataset as rows keyed by column. */
export const readMaven = (dir: string, file: string): Row[] =>
  parse(readFileSync(join(dir, file)), { columns: true, bom: true, skip_empty_lines: true, trim: true });

// The dataset's own spellings, mended on the way in (the demo loader and scripts/import-maven.ts alike).
export const PRODUCT_ALIASES: Record<string, string> = { GTXPro: 'GTX Pro' };
export const INDUSTRY_FIXES: Record<string, string> = { technolgy: 'technology' };
export const STAGE_OF: Record<string, string> = { Prospecting: 'Prospecting', Engaging: 'Qualification', Won: 'Closed Won', Lost: 'Closed Lost' };
export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
