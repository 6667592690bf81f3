import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import {
  insertBuild,
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertUser,
  insertVersion,
  insertWorkspace,
  setActiveVersion,
} from '../support/fixtures.js';
import { readPoolStates } from '../support/pool-state.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const HOUR = 3_600_000;

interface Seeded {
  templateId: string;
  presetId: string;
  /** The prebuilds a user may be handed, by construction. */
  eligible: string[];
}

/**
 * One preset per way a prebuild can fail eligibility (DESIGN.md rule 4), each next to prebuilds that pass, so that
 * the claim and the engine are compared on the same rows.
 */
async function seed(ds: DataSource, now: Date): Promise<Seeded[]> {
  const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR);
  const seeded: Seeded[] = [];

  // Live template, TTL 2 h, invalidated 5 h ago: young ready prebuilds pass; the rest fail one rule each.
  {
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, {
      desiredInstances: 10,
      ttlSeconds: 2 * 3600,
      lastInvalidatedAt: at(5),
    });
    const succeededStart = (workspaceId: string, agents?: ('ready' | 'starting')[]) =>
      insertBuild(ds, {
        workspaceId,
        transition: 'start',
        jobStatus: 'succeeded',
        templateVersionId: versionId,
        presetId,
        ...(agents ? { agents } : {}),
      });
    const eligible = [
      await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1) }),
      await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1.5) }),
    ];
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(3) }); // older than the TTL
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1), ready: false }); // agent starting
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1), jobStatus: 'running' });
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1), jobStatus: 'failed' });
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1), transition: 'stop' });
    // A start that succeeded without agents is not ready either.
    const agentless = await insertWorkspace(ds, { templateId, presetId, createdAt: at(1) });
    await succeededStart(agentless, []);
    // Two agents, one ready: not ready.
    const halfReady = await insertWorkspace(ds, { templateId, presetId, createdAt: at(1) });
    await succeededStart(halfReady, ['ready', 'starting']);
    // Owned by a user already, and deleted.
    const someone = await insertUser(ds, { username: 'someone' });
    const owned = await insertWorkspace(ds, { templateId, presetId, ownerId: someone, createdAt: at(1) });
    await succeededStart(owned);
    const deleted = await insertWorkspace(ds, { templateId, presetId, deleted: true, createdAt: at(1) });
    await succeededStart(deleted);
    // Made before the last invalidation.
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(6) });
    seeded.push({ templateId, presetId, eligible });
  }

  // A preset left on a version that is no longer active: nothing of it is eligible.
  {
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2, parameters: { size: 'old' } });
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1) });
    const next = await insertVersion(ds, templateId);
    await setActiveVersion(ds, templateId, next);
    seeded.push({ templateId, presetId, eligible: [] });
  }

  // A deprecated template: its prebuilds wait for deletion, none is handed out.
  {
    const { templateId, versionId } = await insertTemplate(ds, { deprecated: true });
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2 });
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(1) });
    seeded.push({ templateId, presetId, eligible: [] });
  }

  // No TTL, never invalidated: a week-old ready prebuild is still good.
  {
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2 });
    const eligible = [await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: at(24 * 7) })];
    seeded.push({ templateId, presetId, eligible });
  }
  return seeded;
}

describe('one eligibility rule for the claim and the engine', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it('hands out exactly the prebuilds the engine counts as eligible, preset by preset', async () => {
    const ds = ctx.dataSource;
    const now = ctx.clock.now();
    const seeded = await seed(ds, now);
    const states = await readPoolStates(ds, now);
    const claims = ctx.app.get(ClaimService);
    const user = await insertUser(ds, { username: 'claimer' });

    for (const [index, preset] of seeded.entries()) {
      const engine = states.find((state) => state.presetId === preset.presetId);
      expect(engine?.eligible).toBe(preset.eligible.length);

      // Claim until a miss: the claim's eligible set is what it hands out before the first miss.
      const handed: string[] = [];
      for (let n = 0; ; n += 1) {
        const result = await claims.createWorkspace({
          templateId: preset.templateId,
          ownerId: user,
          name: `claim-${index}-${n}`,
          presetId: engine?.active ? preset.presetId : null,
        });
        if (!result.claimed) break;
        handed.push(result.id);
      }
      expect(handed.sort()).toEqual([...preset.eligible].sort());
    }
  });
});
