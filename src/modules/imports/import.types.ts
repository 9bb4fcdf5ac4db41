import { IsOptional, MaxLength } from 'class-validator';
import { Field, InputType, registerEnumType } from 'type-graphql';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../common/batch.types';
import { EntityType } from '../common/enums';

export enum DateFormat {
  MDY = 'MDY',
  DMY = 'DMY',
}
registerEnumType(DateFormat, {
  name: 'DateFormat',
  description: 'How to read slashed dates such as 03/04/2026 when both parts could be the month.',
  valuesConfig: {
    MDY: { description: 'Month first: 03/04/2026 is March 4.' },
    DMY: { description: 'Day first: 03/04/2026 is April 3.' },
  },
});

@InputType({ description: 'A CSV to import: its text, which column goes to which field, and how rows match records.' })
export class StartImportInput {
  @Field(() => EntityType, { description: 'ACCOUNT, CONTACT, LEAD, OPPORTUNITY, PRODUCT or ACTIVITY.' }) entityType: EntityType;
  @Field({ description: 'The CSV text: UTF-8 with or without BOM, a header row, `,` or `;` between fields, quoted fields may hold newlines.' })
  @MaxLength(50_000_000)
  csv: string;
  @Field(() => JSONScalar, { description: 'An object: CSV column name -> field (an upsert input field, or `customFields.<key>`).' }) mapping: Record<string, string>;
  @Field(() => MatchOn, { nullable: true, defaultValue: MatchOn.EXTERNAL_ID, description: 'How rows find existing records.' }) @IsOptional() matchOn?: MatchOn;
  @Field({ nullable: true, defaultValue: false, description: 'Check every row and write nothing.' }) @IsOptional() dryRun?: boolean;
  @Field({ nullable: true, defaultValue: false, description: 'Write every row or none: if any row fails, nothing is written and the job is FAILED with the row errors.' })
  @IsOptional()
  allOrNone?: boolean;
  @Field(() => DateFormat, { nullable: true, defaultValue: DateFormat.MDY, description: 'For ambiguous slashed dates.' }) @IsOptional() dateFormat?: DateFormat;
}
