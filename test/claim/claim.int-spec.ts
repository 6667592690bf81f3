import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { WorkspaceBuilderService } from '../../src/prebuilds/builder/workspace-builder.service.js';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import { PrebuildEventRepository } from '../../src/prebuilds/database/prebuild-event.repository.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PrebuildsException } from '../../src/prebuilds/errors/prebuilds.exception.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { NotificationBatcher } from '../../src/prebuilds/pubsub/notification-batcher.service.js';
import { ReconcileScheduler } from '../../src/prebuilds/reconciler/reconcile-scheduler.service.js';
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
import { findLatestBuildDrift } from '../support/latest-build-drift.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import type { RecordingPubsub } from '../support/recording-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const ago = (minutes: number) => new Date(Date.UTC(2026, 5, 1, 12) - minutes * 60_000);

async function ownerOf(ds: DataSource, workspaceId: string): Promise<string> {
  const [row] = await ds.query(`SELECT owner_id AS owner FROM prebuilds.workspaces WHERE id = $1`, [
    workspaceId,
  ]);
  return row.owner;
}

describe('ClaimService', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let claims: ClaimService;
  let alice: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
    claims = ctx.app.get(ClaimService);
    alice = await insertUser(ctx.dataSource, { username: 'alice' });
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it('hands each of 3 eligible prebuilds to exactly one of 64 concurrent claimers; the rest get ordinary builds', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 3 });
    const eligible = [];
    for (let i = 0; i < 3; i++)
      eligible.push(await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(10 + i) }));
    const users = [];
    for (let i = 0; i < 64; i++) users.push(await insertUser(ds, { username: `racer-${i}` }));

    const results = await Promise.all(
      users.map((ownerId, i) => claims.createWorkspace({ templateId, ownerId, name: `ws-${i}`, presetId })),
    );
    const claimed = results.filter((r) => r.claimed);
    expect(claimed).toHaveLength(3);
    expect(new Set(claimed.map((r) => r.id))).toEqual(new Set(eligible));
    for (const result of results) {
      expect(await ownerOf(ds, result.id)).toBe(result.ownerId);
      expect(result.presetId).toBe(presetId);
    }
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM prebuilds.workspaces WHERE template_id = $1`,
      [templateId],
    );
    expect(count).toBe(3 + 61);
    // The claim renames the prebuild and starts a claim build initiated by the user.
    const [claimBuild] = await ds.query(
      `SELECT w.name, b.build_number AS "buildNumber", b.reason, b.initiator_id AS initiator
         FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id WHERE w.id = $1`,
      [claimed[0].id],
    );
    expect(claimBuild).toEqual({
      name: claimed[0].name,
      buildNumber: 2,
      reason: 'claim',
      initiator: claimed[0].ownerId,
    });
  });

  it('takes the oldest eligible prebuild first', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 3 });
    const newer = await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(5) });
    const oldest = await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(50) });
    const middle = await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(20) });
    const order = [];
    for (let i = 0; i < 3; i++) {
      order.push(
        (await claims.createWorkspace({ templateId, ownerId: alice, name: `oldest-${i}`, presetId })).id,
      );
    }
    expect(order).toEqual([oldest, middle, newer]);
  });

  it('never claims a prebuild that is not ready, on an old version, of a deleted template, of another preset, stopped or deleting', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { name: 'wanted', desiredInstances: 1 });
    const otherPreset = await insertPreset(ds, versionId, { name: 'other', desiredInstances: 1 });
    const notReady = await insertPrebuild(ds, { templateId, versionId, presetId, ready: false });
    const ofOther = await insertPrebuild(ds, { templateId, versionId, presetId: otherPreset });
    const stopped = await insertWorkspace(ds, { templateId, presetId });
    await insertBuild(ds, {
      workspaceId: stopped,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      presetId,
    });
    await insertBuild(ds, {
      workspaceId: stopped,
      transition: 'stop',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      presetId,
    });
    const deleting = await insertWorkspace(ds, { templateId, presetId });
    await insertBuild(ds, {
      workspaceId: deleting,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      presetId,
    });
    await insertBuild(ds, {
      workspaceId: deleting,
      transition: 'delete',
      jobStatus: 'pending',
      templateVersionId: versionId,
      presetId,
    });

    const miss = await claims.createWorkspace({ templateId, ownerId: alice, name: 'never-1', presetId });
    expect(miss.claimed).toBe(false);
    for (const untouched of [notReady, ofOther, stopped, deleting]) {
      expect(await ownerOf(ds, untouched)).toBe(PREBUILDS_SYSTEM_USER_ID);
    }

    // An old version's prebuild: its preset is not on the active version any more.
    const old = await insertTemplate(ds, {});
    const oldPreset = await insertPreset(ds, old.versionId, { desiredInstances: 1 });
    const onOldVersion = await insertPrebuild(ds, {
      templateId: old.templateId,
      versionId: old.versionId,
      presetId: oldPreset,
    });
    const v2 = await insertVersion(ds, old.templateId, {});
    const v2Preset = await insertPreset(ds, v2, { desiredInstances: 1 });
    await setActiveVersion(ds, old.templateId, v2);
    await expect(
      claims.createWorkspace({
        templateId: old.templateId,
        ownerId: alice,
        name: 'never-2',
        presetId: oldPreset,
      }),
    ).rejects.toMatchObject({ code: 'PRESET_NOT_ACTIVE' });
    expect(
      (
        await claims.createWorkspace({
          templateId: old.templateId,
          ownerId: alice,
          name: 'never-3',
          presetId: v2Preset,
        })
      ).claimed,
    ).toBe(false);
    expect(await ownerOf(ds, onOldVersion)).toBe(PREBUILDS_SYSTEM_USER_ID);

    // A deleted template: nothing can be created from it at all.
    const gone = await insertTemplate(ds, {});
    const gonePreset = await insertPreset(ds, gone.versionId, { desiredInstances: 1 });
    const ofDeleted = await insertPrebuild(ds, {
      templateId: gone.templateId,
      versionId: gone.versionId,
      presetId: gonePreset,
    });
    await ds.query(`UPDATE prebuilds.templates SET deleted = true WHERE id = $1`, [gone.templateId]);
    await expect(
      claims.createWorkspace({
        templateId: gone.templateId,
        ownerId: alice,
        name: 'never-4',
        presetId: gonePreset,
      }),
    ).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    expect(await ownerOf(ds, ofDeleted)).toBe(PREBUILDS_SYSTEM_USER_ID);
  });

  it('matches a preset by parameters: exact match, most parameters wins, a parameterless preset loses, no match is a miss without an event', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {
      parameters: [{ name: 'region' }, { name: 'cpu' }],
    });
    const any = await insertPreset(ds, versionId, { name: 'any', desiredInstances: 1 });
    const eu = await insertPreset(ds, versionId, {
      name: 'eu',
      desiredInstances: 1,
      parameters: { region: 'eu' },
    });
    const euBig = await insertPreset(ds, versionId, {
      name: 'eu-big',
      desiredInstances: 1,
      parameters: { region: 'eu', cpu: '8' },
    });
    const create = (name: string, parameters: Record<string, string>) =>
      claims.createWorkspace({ templateId, ownerId: alice, name, parameters });

    expect((await create('m1', { region: 'eu', cpu: '8' })).presetId).toBe(euBig);
    expect((await create('m2', { region: 'eu', cpu: '2' })).presetId).toBe(eu);
    expect((await create('m3', { region: 'us' })).presetId).toBe(any);

    // Without a parameterless preset, an unmatched request is an ordinary build and records no event.
    const plain = await insertTemplate(ds, { parameters: [{ name: 'region' }] });
    const plainPreset = await insertPreset(ds, plain.versionId, {
      desiredInstances: 1,
      parameters: { region: 'eu' },
    });
    const miss = await claims.createWorkspace({
      templateId: plain.templateId,
      ownerId: alice,
      name: 'm4',
      parameters: { region: 'us' },
    });
    expect(miss).toMatchObject({ claimed: false, presetId: null });
    expect(
      await ds.query(`SELECT 1 FROM prebuilds.prebuild_events WHERE preset_id = $1`, [plainPreset]),
    ).toEqual([]);
  });

  it('records claim_succeeded and claim_missed events, and still creates the workspace when the event write fails', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    await insertPrebuild(ds, { templateId, versionId, presetId });
    await claims.createWorkspace({ templateId, ownerId: alice, name: 'ev-1', presetId });
    await claims.createWorkspace({ templateId, ownerId: alice, name: 'ev-2', presetId });
    // Events leave in the next batch of wake-ups (within notifyFlushMs); flushing now is what that timer does.
    const batcher = ctx.app.get(NotificationBatcher);
    await batcher.flush();
    const events = await ds.query(
      `SELECT event_type AS type FROM prebuilds.prebuild_events WHERE preset_id = $1 ORDER BY created_at, event_type`,
      [presetId],
    );
    expect(events.map((e: { type: string }) => e.type).sort()).toEqual(['claim_missed', 'claim_succeeded']);

    const insert = jest
      .spyOn(ctx.app.get(PrebuildEventRepository), 'insertMany')
      .mockRejectedValue(new Error('events table gone'));
    try {
      const result = await claims.createWorkspace({ templateId, ownerId: alice, name: 'ev-3', presetId });
      await batcher.flush();
      expect(insert).toHaveBeenCalled();
      expect(result.claimed).toBe(false);
      expect(await ownerOf(ds, result.id)).toBe(alice);
    } finally {
      insert.mockRestore();
    }
  });

  it('answers a taken name with NAME_TAKEN and writes nothing (the claimed prebuild stays in the pool)', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    // Made before the pool has anything, so it is an ordinary build (the parameterless preset matches it).
    await claims.createWorkspace({ templateId, ownerId: alice, name: 'taken' });
    const prebuild = await insertPrebuild(ds, { templateId, versionId, presetId });
    const error = await claims
      .createWorkspace({ templateId, ownerId: alice, name: 'taken', presetId })
      .catch((e) => e);
    expect(error).toBeInstanceOf(PrebuildsException);
    expect(error).toMatchObject({ code: 'NAME_TAKEN' });
    expect(await ownerOf(ds, prebuild)).toBe(PREBUILDS_SYSTEM_USER_ID);
  });

  it('never claims on a restart of an existing workspace', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    const mine = await claims.createWorkspace({
      templateId,
      ownerId: alice,
      name: 'restart-me',
      presetId: null,
    });
    const prebuild = await insertPrebuild(ds, { templateId, versionId, presetId });
    const builder = ctx.app.get(WorkspaceBuilderService);
    await builder.build({
      workspaceId: mine.id,
      transition: 'stop',
      initiatorId: alice,
      reason: 'initiator',
    });
    await builder.build({
      workspaceId: mine.id,
      transition: 'start',
      initiatorId: alice,
      reason: 'initiator',
    });
    expect(await ownerOf(ds, prebuild)).toBe(PREBUILDS_SYSTEM_USER_ID);
  });

  it('wakes the reconciler, which writes the replacement at once instead of at the next interval', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    await insertPrebuild(ds, { templateId, versionId, presetId });
    const scheduler = ctx.app.get(ReconcileScheduler);
    scheduler.start(); // interval is the default 60 s: only the NOTIFY can explain a refill within the test
    try {
      const claimed = await claims.createWorkspace({ templateId, ownerId: alice, name: 'refill', presetId });
      expect(claimed.claimed).toBe(true);
      const replacements = async (): Promise<number> =>
        (
          await ds.query(
            `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE preset_id = $1 AND owner_id = $2`,
            [presetId, PREBUILDS_SYSTEM_USER_ID],
          )
        )[0].n;
      await waitFor(async () => (await replacements()) > 0, {
        timeoutMs: 5_000,
        message: 'a replacement prebuild after the claim',
      });
      expect(await replacements()).toBe(1);
      expect((ctx.pubsub as RecordingPubsub).published).toContainEqual({
        channel: PrebuildsChannel.WorkspaceClaimed,
        payload: { templateId, presetId },
      });
    } finally {
      await scheduler.stop();
    }
  });

  // The claim keeps each template's active version in memory (ClaimableTemplateCache); another replica, or the
  // catalog, changing it underneath must never yield a build on the old version or on a deleted template.
  it('builds on the version activated since its last claim, and refuses a template deleted since', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {
      parameters: [{ name: 'size', default: 'small' }],
    });
    const first = await claims.createWorkspace({ templateId, ownerId: alice, name: 'cached-1' });
    const [{ version: firstVersion }] = await ds.query(
      `SELECT template_version_id AS version FROM prebuilds.workspace_builds WHERE id = $1`,
      [first.buildId],
    );
    expect(firstVersion).toBe(versionId);

    const v2 = await insertVersion(ds, templateId, { parameters: [{ name: 'cpu', required: true }] });
    await setActiveVersion(ds, templateId, v2);
    // Checked against v2's definitions, not the cached v1's: 'size' is no longer declared, 'cpu' is required.
    await expect(
      claims.createWorkspace({ templateId, ownerId: alice, name: 'cached-2', parameters: { size: 'big' } }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
    const second = await claims.createWorkspace({
      templateId,
      ownerId: alice,
      name: 'cached-3',
      parameters: { cpu: '4' },
    });
    const [build] = await ds.query(
      `SELECT b.template_version_id AS version, json_object_agg(p.name, p.value) AS parameters
         FROM prebuilds.workspace_builds b JOIN prebuilds.workspace_build_parameters p ON p.build_id = b.id
        WHERE b.id = $1 GROUP BY b.template_version_id`,
      [second.buildId],
    );
    expect(build).toEqual({ version: v2, parameters: { cpu: '4' } });

    await ds.query(`UPDATE prebuilds.templates SET deleted = true WHERE id = $1`, [templateId]);
    await expect(
      claims.createWorkspace({ templateId, ownerId: alice, name: 'cached-4', parameters: { cpu: '4' } }),
    ).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    expect(await ds.query(`SELECT 1 FROM prebuilds.workspaces WHERE name = 'cached-4'`)).toEqual([]);
  });

  // With a quota the owner's lock and the claim go in one simple query, with the values as literals.
  it('under a quota, sends any name and values intact, and refuses a taken name without writing', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {
      parameters: [{ name: 'note', default: 'none' }],
    });
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    const prebuild = await insertPrebuild(ds, { templateId, versionId, presetId });
    const bob = await insertUser(ds, { username: 'bob-quota' });
    const name = `o'brien \\ "x" $1 ; --`;
    const claimed = await claims.createWorkspace({
      templateId,
      ownerId: bob,
      name,
      presetId,
      parameters: { note: "it's {a,b} \\ NULL" },
      maxLiveWorkspaces: 5,
    });
    expect(claimed).toMatchObject({ id: prebuild, claimed: true, name });
    const [row] = await ds.query(
      `SELECT w.name, p.value FROM prebuilds.workspaces w
         JOIN prebuilds.workspace_build_parameters p ON p.build_id = w.latest_build_id
        WHERE w.id = $1`,
      [prebuild],
    );
    expect(row).toEqual({ name, value: "it's {a,b} \\ NULL" });

    const again = await claims
      .createWorkspace({ templateId, ownerId: bob, name, presetId, maxLiveWorkspaces: 5 })
      .catch((error: unknown) => error);
    expect(again).toMatchObject({ code: 'NAME_TAKEN' });
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE owner_id = $1`,
      [bob],
    );
    expect(n).toBe(1);
    // The connection that failed is fine for the next claim.
    const next = await claims.createWorkspace({
      templateId,
      ownerId: bob,
      name: 'next',
      maxLiveWorkspaces: 5,
    });
    expect(next.claimed).toBe(false);
  });

  it('leaves every live workspace it claimed, created or skipped with its latest build state equal to the real rows', async () => {
    // The claim writes the new build's state with the pointer; the snapshot and the next claim read only that copy.
    expect(await findLatestBuildDrift(ctx.dataSource)).toEqual([]);
    const [{ n }] = await ctx.dataSource.query(
      `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE NOT deleted AND latest_transition IS NOT NULL`,
    );
    expect(n).toBeGreaterThan(100);
  });
});
