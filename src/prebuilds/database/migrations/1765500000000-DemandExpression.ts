import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * Demand-aware pools (DESIGN.md rule 12, issue 15): a preset's optional CEL target expression. The API checks it
 * before it is stored; the bound only keeps a row from growing without limit if a host writes the table itself.
 */
export const demandExpression: PrebuildsMigration = {
  name: '1765500000000-DemandExpression',

  async up(sql, ns) {
    await sql(`
      ALTER TABLE ${ns.schema}.template_version_presets
        ADD COLUMN desired_instances_expression text
          CHECK (length(desired_instances_expression) <= 1000)`);
  },

  async down(sql, ns) {
    await sql(`ALTER TABLE ${ns.schema}.template_version_presets DROP COLUMN desired_instances_expression`);
  },
};
