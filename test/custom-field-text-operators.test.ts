import { signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

// `contains` and `startsWith` are text operators: on a custom field of another type they were cast
// into SQL (numeric ILIKE text) and failed there as an internal error.
const FIELDS: [key: string, type: string, value: unknown, typeName: RegExp][] = [
  ['seats', 'NUMBER', 40, /NUMBER/],
  ['margin', 'DECIMAL', '12.50', /DECIMAL/],
  ['renewal', 'DATE', '2027-03-01', /DATE/],
  ['vip', 'BOOLEAN', true, /BOOLEAN/],
];
const TEXT_OPERATORS = ['contains', 'startsWith'];
const CASES = FIELDS.flatMap(([key, type, , typeName]) => TEXT_OPERATORS.map((op) => [op, key, type, typeName] as const));

describe('text operators on custom fields', () => {
  let t: TestApp;
  let admin: SignedUp;
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const COUNT = 'query($f: AccountFilter) { accounts(filter: $f) { totalCount } }';

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_WORKERS: 'false', AUTOMATION_WORKERS: 'false' });
    admin = await signUp(t, 'Operators Co');
    const defs = [
      ...FIELDS.map(([key, type]) => ({ key, type })),
      { key: 'motto', type: 'TEXT' },
      { key: 'tier', type: 'SELECT', options: ['Gold', 'Silver'] },
    ];
    for (const d of defs) {
      const r = await gql('mutation($i: DefineCustomFieldInput!) { defineCustomField(input: $i) { id } }', {
        i: { entityType: 'ACCOUNT', label: d.key, ...d },
      });
      expect(r.errors).toBeUndefined();
    }
    const customFields = { ...Object.fromEntries(FIELDS.map(([key, , value]) => [key, value])), motto: 'Forty seats', tier: 'Gold' };
    expect((await gql('mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }', { i: { name: 'Typed', customFields } })).errors).toBeUndefined();
  });
  afterAll(() => t.close());

  it.each(CASES)('%s on %s (%s) is BAD_USER_INPUT naming the operator and the type', async (op, key, _type, typeName) => {
    for (const value of ['4', '2027', 'true', '']) {
      const r = await gql(COUNT, { f: { customFields: [{ key, [op]: value }] } });
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0].extensions.code).toBe('BAD_USER_INPUT');
      const [field] = r.errors![0].extensions.fields!;
      expect(field.field).toBe(`filter.customFields[0].${op}`);
      expect(field.message).toContain(op);
      expect(field.message).toMatch(typeName);
    }
  });

  it('the same inside and/or/not and alongside a valid condition', async () => {
    const r = await gql(COUNT, {
      f: {
        or: [
          { name: { eq: 'x' } },
          {
            not: {
              customFields: [
                { key: 'motto', contains: 'x' },
                { key: 'seats', contains: '4' },
              ],
            },
          },
        ],
      },
    });
    expect(r.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'filter.or[1].not.customFields[1].contains' }] });
  });

  it('still works on TEXT and SELECT fields', async () => {
    for (const f of [
      { key: 'motto', contains: 'SEATS' },
      { key: 'motto', startsWith: 'forty' },
      { key: 'tier', startsWith: 'go' },
      { key: 'tier', contains: 'ol' },
    ]) {
      const r = await gql(COUNT, { f: { customFields: [f] } });
      expect([f, r.errors, r.data?.accounts.totalCount]).toEqual([f, undefined, 1]);
    }
  });
});
