import { Field, ObjectType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

@ObjectType({ implements: [TenantRecord, SoftDeletableRecord], description: 'A sales team: users under a manager.' })
@Entity('team')
export class Team extends SoftDeletableRecord {
  @Field({ description: 'The team name, unique in the workspace.' })
  @Column('text')
  name: string;

  @Column('uuid', { nullable: true })
  managerId: string | null;
}
