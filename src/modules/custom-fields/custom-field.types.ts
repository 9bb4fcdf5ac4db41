import { ArrayMaxSize, ArrayUnique, IsOptional, Length, Matches, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { EntityType } from '../../graphql/enums';
import { CustomFieldDefinition, CustomFieldType } from './custom-field.entity';
import { IsOptionalNotNull } from '../../graphql/validators';

@InputType({ description: 'A new custom field.' })
export class DefineCustomFieldInput implements Partial<CustomFieldDefinition> {
  @Field(() => EntityType, { description: 'ACCOUNT, CONTACT, LEAD, OPPORTUNITY or ACTIVITY.' }) entityType: EntityType;
  @Field({ description: 'The key in `customFields`: a letter, then letters, digits or _ (at most 63).' })
  @Matches(/^[a-z][a-zA-Z0-9_]{0,62}$/, { message: 'key must start with a lower-case letter and hold only letters, digits and _' })
  key: string;
  @Field({ description: 'The label to show.' }) @Length(1, 200) label: string;
  @Field(() => CustomFieldType, { description: 'The value type.' }) type: CustomFieldType;
  @Field(() => [String], { nullable: true, description: 'The allowed values (SELECT and MULTI_SELECT only).' })
  @IsOptional()
  @ArrayMaxSize(500)
  @ArrayUnique()
  @MaxLength(200, { each: true })
  options?: string[];
  @Field({ nullable: true, defaultValue: false, description: 'Every record must have a value.' }) @IsOptional() required?: boolean;
}

@InputType({ description: 'Changes to a custom field; its key, entity and type stay.' })
export class UpdateCustomFieldInput implements Partial<CustomFieldDefinition> {
  @Field({ nullable: true, description: 'The label to show.' }) @IsOptional() @Length(1, 200) label?: string;
  @Field(() => [String], { nullable: true, description: 'The allowed values; values in use may not be removed.' })
  @IsOptionalNotNull()
  @ArrayMaxSize(500)
  @ArrayUnique()
  @MaxLength(200, { each: true })
  options?: string[];
  @Field({ nullable: true, description: 'Every record must have a value (from now on, on every write).' }) @IsOptionalNotNull() required?: boolean;
}
