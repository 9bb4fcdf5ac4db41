import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Why an automation rule was disabled by the system (a condition that can no longer be evaluated). */
export class AutomationRuleDisabledReason1765630000000 implements MigrationInterface {
  name = 'AutomationRuleDisabledReason1765630000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE automation_rule ADD COLUMN disabled_reason text`);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`ALTER TABLE automation_rule DROP COLUMN disabled_reason`);
  }
}
