import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * `provisioner_jobs.agents_ready`: the job brought up at least one agent and every one of them is ready — the
 * readiness half of eligibility (DESIGN.md rule 4), kept on the job by triggers on workspace_agents instead of being
 * recomputed from every agent by each reconcile cycle (at 100k prebuilds that was a hash of 100k agents built again
 * in every parallel worker of the snapshot's aggregate).
 *
 * The triggers are per statement (a batch of agents costs one UPDATE) and lock the jobs they touch before they
 * recount, in a statement of their own: in READ COMMITTED that statement's snapshot is taken after the lock, so two
 * transactions that make the last two agents of a job ready cannot both count the other's agent as not ready.
 */
export const agentsReady: PrebuildsMigration = {
  name: '1765100000000-AgentsReady',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`ALTER TABLE ${s}.provisioner_jobs ADD COLUMN agents_ready boolean NOT NULL DEFAULT false`);
    await sql(`UPDATE ${s}.provisioner_jobs j SET agents_ready = true
                WHERE EXISTS (SELECT 1 FROM ${s}.workspace_agents a WHERE a.job_id = j.id)
                  AND NOT EXISTS (SELECT 1 FROM ${s}.workspace_agents a
                                   WHERE a.job_id = j.id AND a.lifecycle_state <> 'ready')`);
    await sql(`
      CREATE FUNCTION ${s}.refresh_agents_ready() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM 1 FROM ${s}.provisioner_jobs
          WHERE id IN (SELECT DISTINCT job_id FROM changed) ORDER BY id FOR UPDATE;
        UPDATE ${s}.provisioner_jobs j
           SET agents_ready = EXISTS (SELECT 1 FROM ${s}.workspace_agents a WHERE a.job_id = j.id)
                          AND NOT EXISTS (SELECT 1 FROM ${s}.workspace_agents a
                                           WHERE a.job_id = j.id AND a.lifecycle_state <> 'ready')
         WHERE j.id IN (SELECT DISTINCT job_id FROM changed);
        RETURN NULL;
      END $$`);
    // A transition table serves one event per trigger, hence three triggers on one function.
    await sql(`CREATE TRIGGER agents_ready_insert AFTER INSERT ON ${s}.workspace_agents
                 REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refresh_agents_ready()`);
    await sql(`CREATE TRIGGER agents_ready_update AFTER UPDATE ON ${s}.workspace_agents
                 REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refresh_agents_ready()`);
    await sql(`CREATE TRIGGER agents_ready_delete AFTER DELETE ON ${s}.workspace_agents
                 REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refresh_agents_ready()`);
  },

  async down(sql, ns) {
    const s = ns.schema;
    await sql(`DROP TRIGGER IF EXISTS agents_ready_delete ON ${s}.workspace_agents`);
    await sql(`DROP TRIGGER IF EXISTS agents_ready_update ON ${s}.workspace_agents`);
    await sql(`DROP TRIGGER IF EXISTS agents_ready_insert ON ${s}.workspace_agents`);
    await sql(`DROP FUNCTION IF EXISTS ${s}.refresh_agents_ready()`);
    await sql(`ALTER TABLE ${s}.provisioner_jobs DROP COLUMN agents_ready`);
  },
};
