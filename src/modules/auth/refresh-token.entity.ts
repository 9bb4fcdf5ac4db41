import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An opaque, rotating refresh token, stored as its SHA-256. Tokens of one log-in share a family. */
@Entity('refresh_token')
export class RefreshToken {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  workspaceId: string;

  @Column('uuid')
  userId: string;

  @Column('uuid')
  familyId: string;

  @Column('text')
  tokenHash: string;

  @Column('timestamptz')
  expiresAt: Date;

  @Column('timestamptz', { nullable: true })
  usedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;
}
