import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';
import { Role } from '../../kernel/roles';

registerEnumType(Role, {
  name: 'Role',
  description: "A user's role in the workspace.",
  valuesConfig: {
    ADMIN: { description: 'Reads and writes everything, manages users, teams, API keys and settings.' },
    MANAGER: { description: 'Reads and writes every record of the workspace.' },
    REP: { description: 'Reads everything; writes what it owns or what has no owner.' },
    READ_ONLY: { description: 'Reads only.' },
  },
});

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], description: 'A person who signs in to the workspace.' })
@Entity('app_user')
export class User extends SoftDeletableRecord {
  @Field({ description: 'The sign-in email, unique in the workspace.' })
  @Column('text')
  email: string;

  @Field({ description: 'The display name.' })
  @Column('text')
  name: string;

  @Column('text', { nullable: true, select: false })
  passwordHash: string | null;

  @Field(() => Role, { description: "The user's role." })
  @Column('text')
  role: Role;

  @Column('uuid', { nullable: true })
  teamId: string | null;

  @Field({ description: 'False once deactivated: a deactivated user cannot sign in.' })
  @Column('boolean')
  active: boolean;

  @Field(() => Date, { nullable: true, description: 'The last successful sign-in.' })
  @Column('timestamptz', { nullable: true })
  lastLoginAt: Date | null;
}
