import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { TenantRecord } from '../../graphql/record';
import { ApiScope } from '../../kernel/roles';

registerEnumType(ApiScope, {
  name: 'ApiScope',
  description: 'What an API key may do.',
  valuesConfig: { READ: { description: 'Queries and subscriptions.' }, WRITE: { description: 'Mutations (implies nothing about READ).' } },
});

@ObjectType({ implements: TenantRecord, description: 'A credential for integrations. Its secret is shown once, at creation.' })
@Entity('api_key')
export class ApiKey extends TenantRecord {
  @Field({ description: 'A name to recognise the key by.' })
  @Column('text')
  name: string;

  @Column('text', { select: false })
  keyHash: string;

  @Field({ description: 'The first characters of the secret, to tell keys apart.' })
  @Column('text')
  keyPrefix: string;

  @Field(() => [ApiScope], { description: 'What the key may do.' })
  @Column('text', { array: true })
  scopes: ApiScope[];

  @Field(() => Date, { nullable: true, description: 'After this instant the key no longer works.' })
  @Column('timestamptz', { nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'The last time the key was used (to the minute).' })
  @Column('timestamptz', { nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the key was revoked.' })
  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;

  @Column('uuid', { nullable: true })
  createdById: string | null;
}
