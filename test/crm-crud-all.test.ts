import { codes, signUp, startTestApp, type SignedUp, type TestApp } from './helpers/app';

/** The same six operations, for every kind of CRM record (API.md's conventions). */
const KINDS = [
  { name: 'Account', plural: 'accounts', create: { name: 'Crud Co' }, update: { industry: 'Retail' }, check: 'industry', expect: 'Retail' },
  { name: 'Contact', plural: 'contacts', create: { lastName: 'Crud' }, update: { title: 'CTO' }, check: 'title', expect: 'CTO' },
  { name: 'Lead', plural: 'leads', create: { lastName: 'Crud', company: 'Lead Co' }, update: { status: 'QUALIFIED' }, check: 'status', expect: 'QUALIFIED' },
  { name: 'Opportunity', plural: 'opportunities', create: { name: 'Crud deal' }, update: { probability: 42 }, check: 'probability', expect: 42 },
  {
    name: 'Product',
    plural: 'products',
    create: { name: 'Crud widget', sku: 'CRUD-1' },
    update: { description: 'Blue' },
    check: 'description',
    expect: 'Blue',
  },
  { name: 'Activity', plural: 'activities', create: { type: 'NOTE', subject: 'Crud note' }, update: { body: 'Longer' }, check: 'body', expect: 'Longer' },
];

describe.each(KINDS)('$name: get, list, create, update, delete, restore', (k) => {
  let t: TestApp;
  let admin: SignedUp;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await signUp(t, `${k.name} workspace`);
  });
  afterAll(() => t.close());
  const gql = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, admin.accessToken);
  const entity = k.name[0].toLowerCase() + k.name.slice(1);
  const type = entity.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

  it('runs the whole life of a record, each write with its event and a new version', async () => {
    const c = await gql(`mutation($i: Create${k.name}Input!) { create${k.name}(input: $i) { id version externalId } }`, {
      i: { ...k.create, externalId: `ext-${k.name}` },
    });
    expect(c.errors).toBeUndefined();
    const id = c.data[`create${k.name}`].id;
    expect(c.data[`create${k.name}`]).toMatchObject({ version: 1, externalId: `ext-${k.name}` });
    const byExt = await gql(`{ ${entity}(externalId: "ext-${k.name}") { id } }`);
    expect(byExt.data[entity].id).toBe(id);
    const u = await gql(`mutation($id: ID!, $i: Update${k.name}Input!) { update${k.name}(id: $id, input: $i, expectedVersion: 1) { version ${k.check} } }`, {
      id,
      i: k.update,
    });
    expect(u.data[`update${k.name}`]).toEqual({ version: 2, [k.check]: k.expect });
    const stale = await gql(`mutation($id: ID!, $i: Update${k.name}Input!) { update${k.name}(id: $id, input: $i, expectedVersion: 1) { version } }`, {
      id,
      i: k.update,
    });
    expect(codes(stale)).toEqual(['CONFLICT']);
    const list = await gql(`query($id: ID!) { ${k.plural}(filter: { id: { eq: $id } }) { totalCount nodes { id } } }`, { id });
    expect(list.data[k.plural]).toEqual({ totalCount: 1, nodes: [{ id }] });
    const d = await gql(`mutation($id: ID!) { delete${k.name}(id: $id) { deletedAt } }`, { id });
    expect(d.data[`delete${k.name}`].deletedAt).toBeTruthy();
    expect((await gql(`query($id: ID!) { ${k.plural}(filter: { id: { eq: $id } }) { totalCount } }`, { id })).data[k.plural].totalCount).toBe(0);
    const r = await gql(`mutation($id: ID!) { restore${k.name}(id: $id) { deletedAt version } }`, { id });
    expect(r.data[`restore${k.name}`]).toEqual({ deletedAt: null, version: 4 });
    const events = (await t.sql<{ type: string }>('SELECT type FROM event WHERE entity_id = $1 ORDER BY id', [id])).map((e) => e.type);
    expect(events).toEqual([`${type}.created`, `${type}.updated`, `${type}.deleted`, `${type}.restored`]);
  });

  it('answers NOT_FOUND for an unknown id, and BAD_USER_INPUT for a malformed one in a filter', async () => {
    const missing = await gql(`mutation { update${k.name}(id: "00000000-0000-4000-8000-000000000000", input: {}) { id } }`);
    expect(codes(missing)).toEqual(['NOT_FOUND']);
    expect(codes(await gql(`{ ${k.plural}(filter: { id: { eq: "nope" } }) { totalCount } }`))).toEqual(['BAD_USER_INPUT']);
  });
});
