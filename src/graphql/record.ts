import { Field, ID, Int, InterfaceType } from 'type-graphql';
import { Column, CreateDateColumn, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Node } from './node';

/**
 * What every tenant record has (type-graphql copies the fields into each subclass's type). The database key is (workspace_id, id) so that a table can be
 * distributed by tenant; `id` alone is a UUID and unique in practice. Every record is a Node (`node(id)` fetches it again).
 */
@InterfaceType('Record', { implements: Node, description: 'What every record has: id, timestamps and version.' })
export abstract class TenantRecord {
  @Field(() => ID, { description: 'The record id (a UUID).' })
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  workspaceId: string;

  @Field(() => Date, { description: 'When the record was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { description: 'When the record last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;

  @Field(() => Int, { description: 'Increases by one on every change; pass it back as `expectedVersion` to update safely.' })
  @Column('int')
  version: number;
}

/** A record that is soft-deleted (and restorable) rather than removed. */
@InterfaceType('SoftDeletable', { implements: TenantRecord, description: 'A record that is soft-deleted and restorable.' })
export abstract class SoftDeletableRecord extends TenantRecord {
  @Field(() => Date, { nullable: true, description: 'When the record was deleted; deleted records are restorable.' })
  @Column('timestamptz', { nullable: true })
  deletedAt: Date | null;
}
