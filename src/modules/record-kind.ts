import type { LoaderFactories } from '../data/loaders';
import type { EntitySpec } from '../data/sql';
import type { MatchOn } from '../graphql/batch.types';

/**
 * What the application's central maps know of one kind of record: each kind's descriptor exports one,
 * `registry.ts` lists them, and every map (entities, loaders, who reads its events, which kinds stored
 * filters select, CSV import, automation actions) is assembled from that list. A capability a kind
 * does not take part in is left out of its description.
 */
export interface RecordKind {
  /** Its name in events (`account.created`) and in the EntityType enum. */
  entityType: string;
  /** Its TypeORM entities (the data source registers exactly the listed kinds' entities). */
  entities: readonly (new () => object)[];
  /** Its per-request loaders (declared on `Loaders` in its descriptor). */
  loaders?: Partial<LoaderFactories>;
  /**
   * Who reads its events (events/event-visibility): every role and READ key (`everyone`: what every
   * role reads through the kind's queries), ADMINs only (`admins`: kinds listed by ADMIN-only
   * queries), or the user the record is for (`recipient`: an inbox). A kind not listed is ADMIN-only.
   */
  eventReaders: 'everyone' | 'admins' | 'recipient';
  /** Stored filters (webhook endpoints, automation rules) may select it: its columns and its filter input type. */
  filter?: { spec: EntitySpec; graphqlType: string };
  /** CSV import: the fields a column may map to, the key a file without external ids matches on, the upsert input a row becomes. */
  csv?: { fields: Readonly<Record<string, CsvCell>>; naturalKey?: MatchOn; input: new () => object };
  /** Automation actions on it (update fields, tasks linked to it, emails to it): its GraphQL type and update input. */
  automation?: {
    objectType: string;
    updateInput: new () => object;
    activityLink?: 'accountId' | 'contactId' | 'leadId' | 'opportunityId';
    emailField?: string;
  };
}

/** How a CSV cell becomes an input value. */
export type CsvCell =
  'text' | 'int' | 'decimal' | 'date' | 'datetime' | 'boolean' | 'customFields' | { enum: object } | { money: string } | { currencyOf: string };

/** CSV fields read as text, by name. */
export const csvText = (...names: string[]): Record<string, CsvCell> => Object.fromEntries(names.map((n) => [n, 'text' as CsvCell]));

/** A kind's custom fields as one JSON object column (as the export writes them). */
export const CSV_CUSTOM_FIELDS: Readonly<Record<string, CsvCell>> = { customFields: 'customFields' };

/** The owner, by email (every owned kind's upsert input takes it). */
export const CSV_OWNER = 'ownerEmail';
