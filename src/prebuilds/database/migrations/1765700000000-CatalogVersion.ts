import type { PrebuildsMigration } from './prebuilds-migration.js';

/** The catalog tables whose rows make up the snapshot's preset list and schedules. */
const CATALOG_TABLES = ['templates', 'template_versions', 'template_version_presets', 'prebuild_schedules'];
const EVENTS = [
  ['INSERT', 'NEW TABLE AS changed'],
  ['UPDATE', 'NEW TABLE AS changed OLD TABLE AS before'],
  ['DELETE', 'OLD TABLE AS changed'],
] as const;

/**
 * `catalog_version`: one counter, moved by every statement that changes a template, a version, a preset or a schedule,
 * in that statement's transaction. A replica keeps the preset list and schedules it last read with the counter it
 * read them at, and a cycle whose REPEATABLE READ snapshot shows the same counter sees the same catalog, so it reads
 * one row instead of every preset (at 10k presets the list was ~60 ms of a 250 ms no-op cycle). Transactional on
 * purpose: a sequence would move before the change commits, and a replica could cache the old catalog under the
 * new number. Its own table, so that catalog writes never queue behind the settings row the reconciler writes.
 *
 * Per statement, with transition tables, so that a template push of a thousand presets moves it once, and a
 * statement that changes no row, or writes rows back unchanged (a resume of a healthy preset), does not move it.
 */
export const catalogVersion: PrebuildsMigration = {
  name: '1765700000000-CatalogVersion',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`CREATE TABLE ${s}.catalog_version (
                 singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                 version bigint NOT NULL DEFAULT 0)`);
    await sql(`INSERT INTO ${s}.catalog_version DEFAULT VALUES`);
    await sql(`
      CREATE FUNCTION ${s}.bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- An UPDATE that rewrote rows with the values they had (a resume of a healthy preset) changed nothing.
        IF TG_OP = 'UPDATE' THEN
          IF EXISTS (SELECT to_jsonb(c) FROM changed c EXCEPT SELECT to_jsonb(b) FROM before b) THEN
            UPDATE ${s}.catalog_version SET version = version + 1;
          END IF;
        ELSIF EXISTS (SELECT 1 FROM changed) THEN
          UPDATE ${s}.catalog_version SET version = version + 1;
        END IF;
        RETURN NULL;
      END $$`);
    // A transition table serves one event per trigger, hence one trigger per table and event.
    for (const table of CATALOG_TABLES) {
      for (const [event, tables] of EVENTS) {
        await sql(`CREATE TRIGGER catalog_version_${event.toLowerCase()} AFTER ${event} ON ${s}.${table}
                     REFERENCING ${tables} FOR EACH STATEMENT
                     EXECUTE FUNCTION ${s}.bump_catalog_version()`);
      }
    }
  },

  async down(sql, ns) {
    const s = ns.schema;
    for (const table of CATALOG_TABLES) {
      for (const [event] of EVENTS) {
        await sql(`DROP TRIGGER IF EXISTS catalog_version_${event.toLowerCase()} ON ${s}.${table}`);
      }
    }
    await sql(`DROP FUNCTION IF EXISTS ${s}.bump_catalog_version()`);
    await sql(`DROP TABLE IF EXISTS ${s}.catalog_version`);
  },
};
