import { DataSource } from 'typeorm';
import { createDataSource } from '../src/db/data-source';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { ENTITIES } from '../src/modules/registry';

/** Every migration has a working `down`: revert them all, then apply them again. */
describe('migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource({ entities: ENTITIES, url: db.ownerUrl, poolSize: 1 });
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('revert down to nothing and apply up again', async () => {
    const applied = (await ds.query('SELECT name FROM migrations ORDER BY id')) as { name: string }[];
    expect(applied.length).toBe(ds.migrations.length);
    for (let i = 0; i < applied.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const tables = await ds.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`);
    expect(tables).toEqual([]);
    const again = await ds.runMigrations({ transaction: 'each' });
    expect(again.map((m) => m.name)).toEqual(applied.map((m) => m.name));
    expect(await ds.showMigrations()).toBe(false);
  });
});
