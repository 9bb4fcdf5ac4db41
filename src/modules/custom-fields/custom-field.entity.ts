import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { EntityType } from '../../graphql/enums';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

export enum CustomFieldType {
  TEXT = 'TEXT',
  NUMBER = 'NUMBER',
  DECIMAL = 'DECIMAL',
  DATE = 'DATE',
  BOOLEAN = 'BOOLEAN',
  SELECT = 'SELECT',
  MULTI_SELECT = 'MULTI_SELECT',
}
registerEnumType(CustomFieldType, {
  name: 'CustomFieldType',
  description: 'The type of a custom field value.',
  valuesConfig: {
    TEXT: { description: 'A string.' },
    NUMBER: { description: 'An integer.' },
    DECIMAL: { description: 'An exact decimal number, given and returned as a string.' },
    DATE: { description: 'A calendar date, `YYYY-MM-DD`.' },
    BOOLEAN: { description: 'True or false.' },
    SELECT: { description: 'One of the defined options.' },
    MULTI_SELECT: { description: 'Any of the defined options, as a list.' },
  },
});

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], simpleResolvers: true, description: 'A field a workspace adds to one kind of record.' })
@Entity('custom_field_definition')
export class CustomFieldDefinition extends SoftDeletableRecord {
  @Field(() => EntityType, { description: 'The kind of record the field belongs to.' }) @Column('text') entityType: EntityType;
  @Field({ description: 'The key in `customFields`, e.g. `renewalDate`.' }) @Column('text') key: string;
  @Field({ description: 'The label to show.' }) @Column('text') label: string;
  @Field(() => CustomFieldType, { description: 'The value type.' }) @Column('text') type: CustomFieldType;
  @Field(() => [String], { description: 'The allowed values of a SELECT or MULTI_SELECT field.' }) @Column('text', { array: true }) options: string[];
  @Field({ description: 'A value is required on every record.' }) @Column('boolean') required: boolean;
  @Field(() => Int, { description: 'The display order.' }) @Column('int') position: number;
}
