import type { MigrationInterface, QueryRunner } from 'typeorm';
import { secureTenantTable } from '../src/db/migration-helpers';

/** Standard columns of a tenant record (the key leads with workspace_id). */
const RECORD = `
  workspace_id uuid NOT NULL REFERENCES workspace(id),
  id uuid NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  version int NOT NULL DEFAULT 1,
  deleted_at timestamptz(3)`;

const ownerFk = (t: string) => `ALTER TABLE ${t} ADD FOREIGN KEY (workspace_id, owner_id) REFERENCES app_user(workspace_id, id)`;
const externalIdKey = (t: string) =>
  `CREATE UNIQUE INDEX ${t}_external_id_key ON ${t} (workspace_id, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL`;
/**
 * Search over a normalised (lower-case, unaccented) text: trigrams for similarity and typos, and a
 * full-text vector for whole words, both scoped by workspace through btree_gin.
 */
const searchIndexes = (t: string) => [
  `CREATE INDEX ${t}_search_trgm_idx ON ${t} USING gin (workspace_id, search_text gin_trgm_ops) WHERE deleted_at IS NULL`,
  `CREATE INDEX ${t}_search_fts_idx ON ${t} USING gin (workspace_id, to_tsvector('simple', search_text)) WHERE deleted_at IS NULL`,
];

/**
 * The CRM core: accounts, contacts, leads, pipelines and stages, opportunities with their stage
 * history and line items, products, activities and custom field definitions.
 */
export class CrmCore1764288000000 implements MigrationInterface {
  name = 'CrmCore1764288000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await qr.query(`CREATE EXTENSION IF NOT EXISTS unaccent`);
    await qr.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`);
    // unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes it
    // usable in generated columns and indexes.
    await qr.query(`
      CREATE FUNCTION trellis_search_text(VARIADIC parts text[]) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT lower(public.unaccent('public.unaccent'::regdictionary, array_to_string(parts, ' ')))
      $$`);

    await qr.query(`
      CREATE TABLE account (${RECORD},
        name text NOT NULL,
        domain text,
        industry text,
        type text CHECK (type IN ('CUSTOMER', 'PROSPECT', 'PARTNER', 'VENDOR', 'OTHER')),
        employees int CHECK (employees >= 0),
        annual_revenue_amount numeric(20, 4) CHECK (annual_revenue_amount >= 0),
        annual_revenue_currency char(3),
        phone text,
        website text,
        address text,
        country text,
        owner_id uuid,
        external_id text,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        merged_into_id uuid,
        search_text text GENERATED ALWAYS AS (trellis_search_text(name, domain)) STORED,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(ownerFk('account'));
    await qr.query(externalIdKey('account'));
    await qr.query(`CREATE INDEX account_name_idx ON account (workspace_id, name, id)`);
    await qr.query(`CREATE INDEX account_created_idx ON account (workspace_id, created_at, id)`);
    await qr.query(`CREATE INDEX account_domain_idx ON account (workspace_id, lower(domain)) WHERE deleted_at IS NULL`);
    await qr.query(`CREATE INDEX account_owner_idx ON account (workspace_id, owner_id)`);
    await qr.query(`CREATE INDEX account_industry_idx ON account (workspace_id, industry)`);
    for (const sql of searchIndexes('account')) await qr.query(sql);
    await secureTenantTable(qr, 'account');

    await qr.query(`
      CREATE TABLE contact (${RECORD},
        first_name text,
        last_name text NOT NULL,
        email text,
        phone text,
        title text,
        account_id uuid,
        owner_id uuid,
        external_id text,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        merged_into_id uuid,
        search_text text GENERATED ALWAYS AS (trellis_search_text(first_name, last_name, email)) STORED,
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, account_id) REFERENCES account(workspace_id, id)
      )`);
    await qr.query(ownerFk('contact'));
    await qr.query(externalIdKey('contact'));
    await qr.query(`CREATE INDEX contact_name_idx ON contact (workspace_id, last_name, id)`);
    await qr.query(`CREATE INDEX contact_created_idx ON contact (workspace_id, created_at, id)`);
    await qr.query(`CREATE INDEX contact_email_idx ON contact (workspace_id, lower(email)) WHERE deleted_at IS NULL`);
    await qr.query(`CREATE INDEX contact_account_idx ON contact (workspace_id, account_id)`);
    await qr.query(`CREATE INDEX contact_owner_idx ON contact (workspace_id, owner_id)`);
    for (const sql of searchIndexes('contact')) await qr.query(sql);
    await secureTenantTable(qr, 'contact');

    await qr.query(`
      CREATE TABLE pipeline (${RECORD},
        name text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        position int NOT NULL DEFAULT 0,
        external_id text,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(externalIdKey('pipeline'));
    await qr.query(`CREATE UNIQUE INDEX pipeline_default_key ON pipeline (workspace_id) WHERE is_default AND deleted_at IS NULL`);
    await qr.query(`CREATE UNIQUE INDEX pipeline_name_key ON pipeline (workspace_id, lower(name)) WHERE deleted_at IS NULL`);
    await secureTenantTable(qr, 'pipeline');

    await qr.query(`
      CREATE TABLE stage (${RECORD},
        pipeline_id uuid NOT NULL,
        name text NOT NULL,
        position int NOT NULL,
        probability int NOT NULL CHECK (probability BETWEEN 0 AND 100),
        kind text NOT NULL CHECK (kind IN ('OPEN', 'WON', 'LOST')),
        forecast_category text NOT NULL CHECK (forecast_category IN ('PIPELINE', 'BEST_CASE', 'COMMIT', 'CLOSED', 'OMITTED')),
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipeline(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX stage_pipeline_idx ON stage (workspace_id, pipeline_id, position)`);
    await qr.query(`CREATE UNIQUE INDEX stage_name_key ON stage (workspace_id, pipeline_id, lower(name)) WHERE deleted_at IS NULL`);
    await secureTenantTable(qr, 'stage');

    await qr.query(`
      CREATE TABLE lead (${RECORD},
        first_name text,
        last_name text NOT NULL,
        email text,
        phone text,
        company text,
        title text,
        status text NOT NULL CHECK (status IN ('NEW', 'CONTACTED', 'QUALIFIED', 'UNQUALIFIED', 'CONVERTED')),
        source text CHECK (source IN ('WEB', 'REFERRAL', 'EVENT', 'PARTNER', 'OUTBOUND', 'ADVERTISING', 'IMPORT', 'OTHER')),
        owner_id uuid,
        external_id text,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        converted_at timestamptz(3),
        converted_account_id uuid,
        converted_contact_id uuid,
        converted_opportunity_id uuid,
        search_text text GENERATED ALWAYS AS (trellis_search_text(first_name, last_name, email, company)) STORED,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(ownerFk('lead'));
    await qr.query(externalIdKey('lead'));
    await qr.query(`CREATE INDEX lead_created_idx ON lead (workspace_id, created_at, id)`);
    await qr.query(`CREATE INDEX lead_name_idx ON lead (workspace_id, last_name, id)`);
    await qr.query(`CREATE INDEX lead_status_idx ON lead (workspace_id, status)`);
    await qr.query(`CREATE INDEX lead_email_idx ON lead (workspace_id, lower(email)) WHERE deleted_at IS NULL`);
    await qr.query(`CREATE INDEX lead_owner_idx ON lead (workspace_id, owner_id)`);
    for (const sql of searchIndexes('lead')) await qr.query(sql);
    await secureTenantTable(qr, 'lead');

    await qr.query(`
      CREATE TABLE opportunity (${RECORD},
        name text NOT NULL,
        account_id uuid,
        primary_contact_id uuid,
        pipeline_id uuid NOT NULL,
        stage_id uuid NOT NULL,
        amount_value numeric(20, 4) CHECK (amount_value >= 0),
        currency char(3) NOT NULL,
        probability int CHECK (probability BETWEEN 0 AND 100),
        expected_close_date date,
        closed_at timestamptz(3),
        status text NOT NULL CHECK (status IN ('OPEN', 'WON', 'LOST')),
        stage_entered_at timestamptz(3) NOT NULL DEFAULT now(),
        owner_id uuid,
        external_id text,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        search_text text GENERATED ALWAYS AS (trellis_search_text(name)) STORED,
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, account_id) REFERENCES account(workspace_id, id),
        FOREIGN KEY (workspace_id, primary_contact_id) REFERENCES contact(workspace_id, id),
        FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipeline(workspace_id, id),
        FOREIGN KEY (workspace_id, stage_id) REFERENCES stage(workspace_id, id)
      )`);
    await qr.query(ownerFk('opportunity'));
    await qr.query(externalIdKey('opportunity'));
    await qr.query(`CREATE INDEX opportunity_created_idx ON opportunity (workspace_id, created_at, id)`);
    await qr.query(`CREATE INDEX opportunity_amount_idx ON opportunity (workspace_id, amount_value, id)`);
    await qr.query(`CREATE INDEX opportunity_stage_idx ON opportunity (workspace_id, stage_id)`);
    await qr.query(`CREATE INDEX opportunity_owner_idx ON opportunity (workspace_id, owner_id)`);
    await qr.query(`CREATE INDEX opportunity_account_idx ON opportunity (workspace_id, account_id)`);
    await qr.query(`CREATE INDEX opportunity_close_idx ON opportunity (workspace_id, expected_close_date)`);
    await qr.query(`CREATE INDEX opportunity_status_idx ON opportunity (workspace_id, status, closed_at)`);
    for (const sql of searchIndexes('opportunity')) await qr.query(sql);
    await secureTenantTable(qr, 'opportunity');

    await qr.query(`
      CREATE TABLE opportunity_stage_history (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        opportunity_id uuid NOT NULL,
        pipeline_id uuid NOT NULL,
        stage_id uuid NOT NULL,
        entered_at timestamptz(3) NOT NULL,
        left_at timestamptz(3),
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, opportunity_id) REFERENCES opportunity(workspace_id, id),
        FOREIGN KEY (workspace_id, stage_id) REFERENCES stage(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX stage_history_opportunity_idx ON opportunity_stage_history (workspace_id, opportunity_id, entered_at)`);
    await qr.query(`CREATE INDEX stage_history_stage_idx ON opportunity_stage_history (workspace_id, stage_id, entered_at)`);
    await secureTenantTable(qr, 'opportunity_stage_history');

    await qr.query(`
      CREATE TABLE product (${RECORD},
        name text NOT NULL,
        sku text,
        description text,
        unit_price_value numeric(20, 4) CHECK (unit_price_value >= 0),
        currency char(3) NOT NULL,
        active boolean NOT NULL DEFAULT true,
        external_id text,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(externalIdKey('product'));
    await qr.query(`CREATE UNIQUE INDEX product_sku_key ON product (workspace_id, lower(sku)) WHERE deleted_at IS NULL AND sku IS NOT NULL`);
    await qr.query(`CREATE INDEX product_name_idx ON product (workspace_id, name, id)`);
    await secureTenantTable(qr, 'product');

    await qr.query(`
      CREATE TABLE line_item (
        workspace_id uuid NOT NULL REFERENCES workspace(id),
        id uuid NOT NULL,
        opportunity_id uuid NOT NULL,
        product_id uuid,
        name text NOT NULL,
        quantity_value numeric(20, 4) NOT NULL CHECK (quantity_value > 0),
        unit_price_value numeric(20, 4) NOT NULL CHECK (unit_price_value >= 0),
        discount_value numeric(20, 4) NOT NULL DEFAULT 0 CHECK (discount_value >= 0),
        total_value numeric(20, 4) GENERATED ALWAYS AS (quantity_value * unit_price_value - discount_value) STORED CHECK (total_value >= 0),
        currency char(3) NOT NULL,
        position int NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version int NOT NULL DEFAULT 1,
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, opportunity_id) REFERENCES opportunity(workspace_id, id),
        FOREIGN KEY (workspace_id, product_id) REFERENCES product(workspace_id, id)
      )`);
    await qr.query(`CREATE INDEX line_item_opportunity_idx ON line_item (workspace_id, opportunity_id, position)`);
    await qr.query(`CREATE INDEX line_item_product_idx ON line_item (workspace_id, product_id)`);
    await secureTenantTable(qr, 'line_item');

    await qr.query(`
      CREATE TABLE activity (${RECORD},
        type text NOT NULL CHECK (type IN ('CALL', 'EMAIL', 'MEETING', 'NOTE', 'TASK')),
        subject text NOT NULL,
        body text,
        status text NOT NULL CHECK (status IN ('OPEN', 'COMPLETED', 'CANCELLED')),
        due_at timestamptz(3),
        completed_at timestamptz(3),
        duration_seconds int CHECK (duration_seconds >= 0),
        outcome text,
        account_id uuid,
        contact_id uuid,
        lead_id uuid,
        opportunity_id uuid,
        owner_id uuid,
        external_id text,
        custom_fields jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (workspace_id, id),
        FOREIGN KEY (workspace_id, account_id) REFERENCES account(workspace_id, id),
        FOREIGN KEY (workspace_id, contact_id) REFERENCES contact(workspace_id, id),
        FOREIGN KEY (workspace_id, lead_id) REFERENCES lead(workspace_id, id),
        FOREIGN KEY (workspace_id, opportunity_id) REFERENCES opportunity(workspace_id, id)
      )`);
    await qr.query(ownerFk('activity'));
    await qr.query(externalIdKey('activity'));
    await qr.query(`CREATE INDEX activity_created_idx ON activity (workspace_id, created_at, id)`);
    for (const ref of ['account', 'contact', 'lead', 'opportunity']) {
      // "the latest activities of this record": one index range per parent.
      await qr.query(`CREATE INDEX activity_${ref}_idx ON activity (workspace_id, ${ref}_id, created_at DESC, id DESC) WHERE ${ref}_id IS NOT NULL`);
    }
    await qr.query(`CREATE INDEX activity_owner_due_idx ON activity (workspace_id, owner_id, due_at)`);
    await secureTenantTable(qr, 'activity');

    await qr.query(`
      CREATE TABLE custom_field_definition (${RECORD},
        entity_type text NOT NULL CHECK (entity_type IN ('account', 'contact', 'lead', 'opportunity', 'activity')),
        key text NOT NULL CHECK (key ~ '^[a-z][a-zA-Z0-9_]{0,62}$'),
        label text NOT NULL,
        type text NOT NULL CHECK (type IN ('TEXT', 'NUMBER', 'DECIMAL', 'DATE', 'BOOLEAN', 'SELECT', 'MULTI_SELECT')),
        options text[] NOT NULL DEFAULT '{}',
        required boolean NOT NULL DEFAULT false,
        position int NOT NULL DEFAULT 0,
        PRIMARY KEY (workspace_id, id)
      )`);
    await qr.query(`CREATE UNIQUE INDEX custom_field_key ON custom_field_definition (workspace_id, entity_type, key) WHERE deleted_at IS NULL`);
    await secureTenantTable(qr, 'custom_field_definition');
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const t of [
      'custom_field_definition',
      'activity',
      'line_item',
      'product',
      'opportunity_stage_history',
      'opportunity',
      'lead',
      'stage',
      'pipeline',
      'contact',
      'account',
    ]) {
      await qr.query(`DROP TABLE ${t}`);
    }
    await qr.query(`DROP FUNCTION trellis_search_text(text[])`);
    // The extensions may serve other schemas of this database; they stay.
  }
}
