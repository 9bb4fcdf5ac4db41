import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export const MAX_BATCH = 1000;

export enum MatchOn {
  EXTERNAL_ID = 'EXTERNAL_ID',
  DOMAIN = 'DOMAIN',
  EMAIL = 'EMAIL',
  SKU = 'SKU',
  NONE = 'NONE',
}
registerEnumType(MatchOn, {
  name: 'MatchOn',
  description: 'How an upsert finds the record an input is about.',
  valuesConfig: {
    EXTERNAL_ID: { description: 'The externalId (every kind).' },
    DOMAIN: { description: 'The web domain, ignoring case (accounts).' },
    EMAIL: { description: 'The email, ignoring case (contacts and leads).' },
    SKU: { description: 'The SKU, ignoring case (products).' },
    NONE: { description: 'No key: every input creates a record (every kind; an import of a file without a key column).' },
  },
});

export enum BatchItemStatus {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  UNCHANGED = 'UNCHANGED',
  FAILED = 'FAILED',
}
registerEnumType(BatchItemStatus, {
  name: 'BatchItemStatus',
  description: 'What an upsert did with one input.',
  valuesConfig: {
    CREATED: { description: 'No record matched: one was created.' },
    UPDATED: { description: 'A record matched and was changed.' },
    UNCHANGED: { description: 'A record matched and already had these values: nothing was written.' },
    FAILED: { description: 'Nothing was written: see `errors`.' },
  },
});

@ObjectType('FieldError', { description: 'A problem with one field of an input.' })
class FieldErrorType {
  @Field({ description: 'The field, e.g. `email` or `customFields.tier`.' }) field: string;
  @Field({ description: 'What is wrong.' }) message: string;
}

@ObjectType({ description: 'The result for one input of a batch, at the same index.' })
class BatchItemResult {
  @Field(() => Int, { description: 'The position of the input in the batch, from 0.' }) index: number;
  @Field(() => BatchItemStatus, { description: 'CREATED, UPDATED, UNCHANGED or FAILED.' }) status: BatchItemStatus;
  @Field(() => String, { nullable: true, description: 'The record id (null when FAILED).' }) id: string | null;
  @Field(() => [FieldErrorType], { description: 'Why it FAILED (empty otherwise).' }) errors: FieldErrorType[];
}

@ObjectType({ description: 'One result per input, in order, and the counts.' })
export class BatchResult {
  @Field(() => [BatchItemResult], { description: 'One per input, in order.' }) results: BatchItemResult[];
  @Field(() => Int, { description: 'How many were created.' }) created: number;
  @Field(() => Int, { description: 'How many were changed.' }) updated: number;
  @Field(() => Int, { description: 'How many already held these values (no event, no new version).' }) unchanged: number;
  @Field(() => Int, { description: 'How many failed.' }) failed: number;
}
