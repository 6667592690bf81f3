import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * provisioner_jobs.agents_ready, kept by the triggers of migration 1765100000000-AgentsReady: the readiness the
 * claim, the snapshot and the status report all read (eligibility.sql.ts).
 */
describe('the agents_ready flag of a job', () => {
  let db: TestDatabase;
  let a: pg.Client;
  let b: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    await Promise.all([a.connect(), b.connect()]);
  });
  afterAll(async () => {
    await Promise.all([a.end(), b.end()]);
    await db.drop();
  });

  async function jobWithAgents(states: string[]): Promise<{ jobId: string; agentIds: string[] }> {
    const jobId = randomUUID();
    await a.query(
      `INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at) VALUES ($1, now(), now())`,
      [jobId],
    );
    const { rows } = await a.query<{ id: string }>(
      `INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, created_at)
       SELECT $1, state, now() FROM unnest($2::text[]) WITH ORDINALITY AS x(state, n) ORDER BY n RETURNING id`,
      [jobId, states],
    );
    return { jobId, agentIds: rows.map((row) => row.id) };
  }

  const flag = async (jobId: string) =>
    (await a.query(`SELECT agents_ready FROM prebuilds.provisioner_jobs WHERE id = $1`, [jobId])).rows[0]
      .agents_ready as boolean;

  it('is true exactly while the job has agents and all of them are ready', async () => {
    const none = randomUUID();
    await a.query(
      `INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at) VALUES ($1, now(), now())`,
      [none],
    );
    expect(await flag(none)).toBe(false);

    const { jobId, agentIds } = await jobWithAgents(['ready', 'starting']);
    expect(await flag(jobId)).toBe(false);
    await a.query(`UPDATE prebuilds.workspace_agents SET lifecycle_state = 'ready' WHERE id = $1`, [
      agentIds[1],
    ]);
    expect(await flag(jobId)).toBe(true);
    await a.query(
      `INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, created_at) VALUES ($1, 'created', now())`,
      [jobId],
    );
    expect(await flag(jobId)).toBe(false);
    await a.query(`DELETE FROM prebuilds.workspace_agents WHERE job_id = $1 AND lifecycle_state <> 'ready'`, [
      jobId,
    ]);
    expect(await flag(jobId)).toBe(true);
    await a.query(`DELETE FROM prebuilds.workspace_agents WHERE job_id = $1`, [jobId]);
    expect(await flag(jobId)).toBe(false);

    const ready = await jobWithAgents(['ready', 'ready', 'ready']);
    expect(await flag(ready.jobId)).toBe(true);
  });

  it('ends true when two transactions make the last two agents ready at the same time', async () => {
    const { jobId, agentIds } = await jobWithAgents(['starting', 'starting']);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query(`UPDATE prebuilds.workspace_agents SET lifecycle_state = 'ready' WHERE id = $1`, [
      agentIds[0],
    ]);
    // b's trigger waits for a's lock on the job, then recounts with a's agent committed.
    const second = b.query(`UPDATE prebuilds.workspace_agents SET lifecycle_state = 'ready' WHERE id = $1`, [
      agentIds[1],
    ]);
    const pid = (b as unknown as { processID: number }).processID;
    await waitFor(
      async () =>
        (await a.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid])).rows[0]
          ?.wait_event_type === 'Lock',
      { timeoutMs: 5_000, message: 'the second transaction waiting for the first' },
    );
    await a.query('COMMIT');
    await second;
    await b.query('COMMIT');
    expect(await flag(jobId)).toBe(true);
  });
});
