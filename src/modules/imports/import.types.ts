import { IsOptional, MaxLength } from 'class-validator';
import { Field, InputType, registerEnumType } from 'type-graphql';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';

enum DateFormat {
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
  @Field(() => JSONScalar, {
    nullable: true,
    description:
      "An object: CSV column name -> field (an upsert input field, `customFields.<key>`, or `customFields` for a column of JSON objects). When omitted, read from the header: each column goes to the field or custom field (key or label) it names, ignoring case, spaces and punctuation, as the export names them too (`account.externalId`, `amount.amount`); other columns are left out. The job's `mapping` shows the one used.",
  })
  @IsOptional()
  mapping?: Record<string, string> | null;
  @Field(() => MatchOn, {
    nullable: true,
    description:
      "How rows find existing records. When omitted: EXTERNAL_ID if a column maps to `externalId` and holds any, else the natural key of the kind likewise (EMAIL for contacts and leads, DOMAIN for accounts, SKU for products), else NONE (every row creates). A row whose key cell is empty creates a record. The job's `matchOn` says which key was used.",
  })
  @IsOptional()
  matchOn?: MatchOn;
  @Field({ nullable: true, defaultValue: false, description: 'Check every row and write nothing.' }) @IsOptional() dryRun?: boolean;
  @Field({
    nullable: true,
    defaultValue: false,
    description: 'Write every row or none: if any row fails, nothing is written and the job is FAILED with the row errors.',
  })
  @IsOptional()
  allOrNone?: boolean;
  @Field(() => DateFormat, { nullable: true, defaultValue: DateFormat.MDY, description: 'For ambiguous slashed dates.' }) @IsOptional() dateFormat?: DateFormat;
}
