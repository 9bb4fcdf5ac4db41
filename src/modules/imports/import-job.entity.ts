import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Node } from '../../graphql/node';
import { EntityType } from '../../graphql/enums';
import { JSONScalar } from '../../graphql/scalars';
import { MatchOn } from '../../graphql/batch.types';

export enum ImportStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(ImportStatus, {
  name: 'ImportStatus',
  description: 'Where an import job stands.',
  valuesConfig: {
    PENDING: { description: 'Waiting to start.' },
    RUNNING: { description: 'Rows are being processed, in batches.' },
    COMPLETED: { description: 'Every row was processed (some may have failed: see `failed` and `errors`).' },
    FAILED: { description: 'The job stopped: see `message`.' },
  },
});

@ObjectType({ description: 'A problem with one row of an imported CSV.' })
export class ImportRowError {
  @Field(() => Int, { description: 'The row in the file, counting the header as row 1.' }) row: number;
  @Field(() => String, { nullable: true, description: 'The CSV column, when the problem is in one.' }) column: string | null;
  @Field({ description: 'What is wrong.' }) message: string;
}

@ObjectType({ implements: Node, simpleResolvers: true, description: 'A CSV import running in the background, in batches.' })
@Entity('import_job')
export class ImportJob {
  @Field(() => ID, { description: 'The job id.' }) @PrimaryColumn('uuid') id: string;
  @Column('uuid') workspaceId: string;
  @Field(() => EntityType, { description: 'What is imported.' }) @Column('text') entityType: EntityType;
  @Field(() => ImportStatus, { description: 'PENDING, RUNNING, COMPLETED or FAILED.' }) @Column('text') status: ImportStatus;
  @Field({ description: 'A dry run checks everything and writes nothing.' }) @Column('boolean') dryRun: boolean;
  @Field({ description: 'All or none: if any row fails, no record is written and the job is FAILED with the row errors.' })
  @Column('boolean')
  allOrNone: boolean;
  @Field(() => MatchOn, {
    description:
      'The key rows were matched on: the one asked for, or the one chosen when none was (see StartImportInput.matchOn; NONE: every row created a record).',
  })
  @Column('text')
  matchOn: MatchOn;
  @Field(() => JSONScalar, { description: 'CSV column -> field: as given, or as read from the header (columns left out are not imported).' })
  @Column('jsonb')
  mapping: Record<string, string>;
  @Column('text') dateFormat: string;
  @Column('text', { select: false }) csv: string;
  @Field(() => Int, { description: 'Rows in the file (without the header).' }) @Column('int') total: number;
  @Field(() => Int, { description: 'Rows done so far.' }) @Column('int') processed: number;
  @Field(() => Int, { description: 'Records created (or, in a dry run, that would be).' }) @Column('int') created: number;
  @Field(() => Int, { description: 'Records changed (or that would be).' }) @Column('int') updated: number;
  @Field(() => Int, { description: 'Rows that matched a record already holding their values.' }) @Column('int') unchanged: number;
  @Field(() => Int, { description: 'Rows that failed.' }) @Column('int') failed: number;
  @Field(() => [ImportRowError], { description: 'The first 1000 row errors.' }) @Column('jsonb') errors: ImportRowError[];
  @Field(() => Int, { description: 'All row errors, also beyond the first 1000.' }) @Column('int') errorCount: number;
  @Field(() => String, { nullable: true, description: 'Why the job FAILED as a whole.' }) @Column('text', { nullable: true }) message: string | null;
  @Column('uuid', { nullable: true }) createdById: string | null;
  @Column('text') actorType: string;
  @Column('uuid', { nullable: true }) actorId: string | null;
  @Field(() => Date, { nullable: true, description: 'When it started running.' }) @Column('timestamptz', { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it finished.' }) @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @Field(() => Date, { description: 'When it was started.' }) @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
  @Column('int') version: number;
}
