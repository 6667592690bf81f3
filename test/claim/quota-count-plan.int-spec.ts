import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ClaimRepository, type ClaimInput } from '../../src/prebuilds/database/claim.repository.js';
import type { NamedStatement } from '../../src/prebuilds/database/claim-pool.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { insertPrebuild, insertPreset, insertTemplate, insertUser } from '../support/fixtures.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Alias?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** EXPLAIN EXECUTE takes no protocol parameters: the values as literals (these statements' values are flat). */
function literal(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (Array.isArray(value))
    return pg.escapeLiteral(`{${value.map((v) => `"${literal(v).slice(1, -1)}"`).join(',')}}`);
  return pg.escapeLiteral(String(value));
}

function* nodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* nodes(child);
}

/**
 * The quota count in both claim statements, as the claim pool plans them (generic plans), at the moment a quota is
 * most likely to bite: a pool has just filled and ANALYZE saw the prebuilds owner alone. Planned on the owner's
 * equality, that count read the whole workspaces table in every claim; it must read the owner's index entries.
 */
describe('the claim statements count an owner’s live workspaces from the index', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let client: pg.Client;
  let input: ClaimInput;
  const repository = new ClaimRepository(new PrebuildsNamespace());

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 2 })).initialize();
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 300 });
    for (let i = 0; i < 300; i++) await insertPrebuild(ds, { templateId, versionId, presetId });
    await ds.query('ANALYZE prebuilds.workspaces');
    input = {
      templateId,
      versionId,
      presetId,
      ownerId: await insertUser(ds),
      name: 'quota-plan',
      now: new Date(),
      newWorkspaceId: randomUUID(),
      buildId: randomUUID(),
      jobId: randomUUID(),
      parameters: {},
      maxLiveWorkspaces: 10,
    };
    client = new pg.Client({ connectionString: db.url, options: '-c plan_cache_mode=force_generic_plan' });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await ds.destroy();
    await db.drop();
  });

  /** The scans of `workspaces o` (the count's alias) in the statement's generic plan. */
  async function countScans(statement: NamedStatement): Promise<PlanNode[]> {
    await client.query(`PREPARE ${statement.name} AS ${statement.text}`);
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE ${statement.name}(${statement.values.map(literal).join(', ')})`,
    );
    return [...nodes(rows[0]['QUERY PLAN'][0].Plan)].filter(
      (node) => node['Relation Name'] === 'workspaces' && node.Alias === 'o',
    );
  }

  it('in the single claim', async () => {
    const scans = await countScans(repository.claimStatement(input));
    expect(scans.map((scan) => [scan['Node Type'], scan['Index Name']])).toEqual([
      [expect.stringMatching(/^Index (Only )?Scan$/), 'uq_workspaces_owner_name'],
    ]);
  });

  it('in a batch of claims', async () => {
    const other = { ...input, ownerId: await insertUser(ds), name: 'quota-plan-2' };
    const scans = await countScans(repository.claimBatchStatement([input, other]));
    expect(scans.map((scan) => [scan['Node Type'], scan['Index Name']])).toEqual([
      [expect.stringMatching(/^Index (Only )?Scan$/), 'uq_workspaces_owner_name'],
    ]);
  });
});
