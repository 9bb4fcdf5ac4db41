// The DataSource for the TypeORM CLI (`npm run migration:run`, `migration:revert`): it connects as the
// owner role, MIGRATION_DATABASE_URL or else DATABASE_URL.
import 'reflect-metadata';
import { createDataSource } from './src/db/data-source';
import { ENTITIES } from './src/modules/registry';

const url = process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL;
if (!url) throw new Error('set MIGRATION_DATABASE_URL or DATABASE_URL to run the TypeORM CLI');

export default createDataSource({ entities: ENTITIES, url, poolSize: 1, applicationName: 'trellis-cli' });
