import { Authorized, Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SecretField } from '../../graphql/secret-fields';

@ObjectType({ description: 'A tenant: a company using Trellis. Every record belongs to exactly one workspace.' })
@Entity('workspace')
export class Workspace {
  @Field(() => ID, { description: 'The workspace id.' })
  @PrimaryColumn('uuid')
  id: string;

  @Field({ description: 'The workspace name.' })
  @Column('text')
  name: string;

  @Field({ description: 'The default currency (ISO 4217) for amounts given without one.' })
  @Column('char', { length: 3 })
  currency: string;

  @Field({ description: 'The IANA time zone used for periods in analytics and schedules.' })
  @Column('text')
  timezone: string;

  @Authorized('ADMIN')
  @SecretField()
  @Field(() => String, { nullable: true, description: 'The lead intake token: web forms POST leads to `/intake/<token>` (ADMIN only; see rotateIntakeToken).' })
  @Column('text', { nullable: true })
  intakeToken: string | null;

  @Column('jsonb')
  settings: Record<string, unknown>;

  @Field({ description: "Whether REPs see the whole workspace's analytics (otherwise their own numbers)." })
  get repsSeeWorkspaceAnalytics(): boolean {
    return this.settings?.repsSeeWorkspaceAnalytics === true;
  }

  @Field(() => Date, { description: 'When the workspace was created.' })
  @Column('timestamptz')
  createdAt: Date;

  @Field(() => Date, { description: 'When the workspace last changed.' })
  @Column('timestamptz')
  updatedAt: Date;

  @Field(() => Int, { description: 'Increases by one on every change.' })
  @Column('int')
  version: number;

  @Column('timestamptz', { nullable: true })
  deletedAt: Date | null;
}
