import { belongsTo, col, type EntitySpec } from '../../data/sql';
import { ACCOUNT_SPEC } from '../accounts/account.descriptor';
import type { StoreSpec } from '../../data/record-store';
import { USER_SPEC } from '../users/user.descriptor';
import { Contact } from './contact.entity';
import { byIdLoader, childrenLoader, type Loader, type LoaderFactories, MAX_CHILDREN } from '../../data/loaders';
import { type IncludeSpec, toOne } from '../../data/lookahead';
import { CSV_CUSTOM_FIELDS, CSV_OWNER, csvText, type RecordKind } from '../record-kind';
import { MatchOn } from '../../graphql/batch.types';
import { ContactFilter, UpdateContactInput, UpsertContactInput } from './contact.types';

export const CONTACT_SPEC: EntitySpec = {
  table: 'contact',
  softDelete: true,
  customFields: 'custom_fields',
  fields: {
    id: col('id', 'uuid'),
    firstName: col('first_name', 'text', true),
    lastName: col('last_name', 'text'),
    email: col('email', 'text', true),
    phone: col('phone', 'text', true),
    title: col('title', 'text', true),
    accountId: col('account_id', 'uuid', true),
    ownerId: col('owner_id', 'uuid', true),
    externalId: col('external_id', 'text', true),
    createdAt: col('created_at', 'timestamptz'),
    updatedAt: col('updated_at', 'timestamptz'),
  },
  relations: {
    account: belongsTo(() => ACCOUNT_SPEC, 'account_id'),
    owner: belongsTo(() => USER_SPEC, 'owner_id'),
  },
};

export const CONTACT_STORE: StoreSpec<Contact> = {
  table: 'contact',
  entity: Contact,
  entityType: 'contact',
  label: 'Contact',
  trackedFields: ['firstName', 'lastName', 'email', 'phone', 'title', 'accountId', 'ownerId', 'externalId', 'customFields', 'mergedIntoId', 'deletedAt'],
  toData: (c) => ({
    id: c.id,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phone: c.phone,
    title: c.title,
    accountId: c.accountId,
    ownerId: c.ownerId,
    externalId: c.externalId,
    customFields: c.customFields,
    mergedIntoId: c.mergedIntoId,
    deletedAt: c.deletedAt?.toISOString() ?? null,
  }),
};

declare module '../../data/loaders' {
  interface Loaders {
    contact: Loader<string, Contact | null>;
    /** The contacts of each account, by last name. */
    contactsOfAccount: Loader<string, Contact[]>;
  }
}

const CONTACT_LOADERS = {
  contact: (tx) => byIdLoader(tx, 'contact', Contact),
  contactsOfAccount: (tx) => childrenLoader(tx, 'contact', 'account_id', Contact, 'c.last_name, c.id', MAX_CHILDREN),
} satisfies Pick<LoaderFactories, 'contact' | 'contactsOfAccount'>;

/** A record's contact (through `fk`: `contact_id`, `primary_contact_id`), fetched with its page when selected. */
export const includeContact = (fk = 'contact_id'): IncludeSpec => toOne('contact', Contact, fk, (l) => l.contact);

export const CONTACT_KIND = {
  entityType: 'contact',
  entities: [Contact],
  loaders: CONTACT_LOADERS,
  eventReaders: 'everyone',
  filter: { spec: CONTACT_SPEC, graphqlType: ContactFilter.name },
  csv: {
    fields: { ...csvText('externalId', 'firstName', 'lastName', 'email', 'phone', 'title', 'accountExternalId', CSV_OWNER), ...CSV_CUSTOM_FIELDS },
    naturalKey: MatchOn.EMAIL,
    input: UpsertContactInput,
  },
  automation: { objectType: 'Contact', updateInput: UpdateContactInput, activityLink: 'contactId', emailField: 'email' },
} satisfies RecordKind;
