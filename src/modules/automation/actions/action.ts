import type { GraphQLSchema } from 'graphql';
import type { ServiceContext } from '../../../data/context';
import type { TenantTransaction } from '../../../db/tenant-transaction';
import type { ChangeEvent } from '../../../events/change-event';
import type { AutomationRule } from '../automation-rule.entity';
import type { ActionResult } from '../automation-run.entity';

/** A record as actions see it: the entity instance (API field names). */
export type RecordData = Record<string, unknown> & { id: string; ownerId?: string | null };

/** How the engine reads and writes one kind of record, through its service (permissions, events and all). */
export interface RecordAccess {
  entityType: string;
  /** Its GraphQL object type (templates may name its fields) and update input type. */
  objectType: string;
  updateInputType: string;
  get(ctx: ServiceContext, id: string): Promise<RecordData>;
  update(ctx: ServiceContext, id: string, input: Record<string, unknown>): Promise<unknown>;
  /**
   * Checks that the records an update input refers to by id (owner, account, stage...) exist in the
   * workspace, writing nothing; BAD_USER_INPUT names each field as `<path>.<field>`.
   */
  checkReferences(tx: TenantTransaction, input: Record<string, unknown>, path: string): Promise<void>;
  /** The activity field that links an activity (task, email) to this kind of record. */
  activityLink?: 'accountId' | 'contactId' | 'leadId' | 'opportunityId';
  /** The field holding the record's own email address, if it has one. */
  emailField?: string;
}

/** Where an action is checked, when a rule is saved. */
export interface CheckEnv {
  schema: GraphQLSchema;
  tx: TenantTransaction;
  /** The records the trigger is about (null: a schedule over no records). */
  access: RecordAccess | null;
  recordFields: ReadonlySet<string> | null;
  /** What a template may name of the record: its values, not its relations (`{{record.owner}}` would render empty). */
  templateFields: ReadonlySet<string> | null;
  /** The params' path in the input, for error messages (`input.actions[1].params`). */
  path: string;
}

/** One run of one action. In a dry run (`testAutomationRule`) it says what it would do, and does nothing. */
export interface RunEnv {
  ctx: ServiceContext;
  rule: AutomationRule;
  access: RecordAccess | null;
  record: RecordData | null;
  event: ChangeEvent | null;
  /** The run (its row is claimed before the actions run); null in a dry run. */
  runId: string | null;
  dryRun: boolean;
  /** What templates render from. */
  view: Record<string, unknown>;
  /**
   * Side effects outside the database (SMTP, HTTP) wait for the run's transaction to commit. The
   * runner awaits a returned promise (a webhook call and the record of its outcome), in order.
   */
  afterCommit(fn: () => void | Promise<void>): void;
}

/** What an action did; `pending`: it is to be done after the commit (its result then says `ok: false` until it is). */
type ActionOutcome = Omit<ActionResult, 'type' | 'ok' | 'error'> & { pending?: boolean };

export interface ActionHandler<P = Record<string, unknown>> {
  /** Validates and normalises the params; BAD_USER_INPUT naming the param otherwise. */
  check(params: Record<string, unknown>, env: CheckEnv): Promise<P> | P;
  run(env: RunEnv, params: P): Promise<ActionOutcome>;
}

export const str = (v: unknown): v is string => typeof v === 'string';
