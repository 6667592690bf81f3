import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The module's import flow, as a test over its import graph (like the lint rule that keeps `state/` pure): each part
 * is a folder of src/prebuilds, or one of its root files, and sits in a layer. A part imports only from lower
 * layers: from the wiring and HTTP down, through the services, to the repositories and the pure engine. So the flow
 * has no cycles, and a new import against it fails here.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['state', 'clock', 'errors', 'logging'],
  ['validation', 'database', 'rbac'],
  ['prebuilds.options'],
  ['pubsub'],
  ['builder', 'provisioner', 'workspaces'],
  ['catalog', 'claim', 'reconciler'],
  // Metrics listen through observer seams (claim/claim-observer.ts) instead of being called by the services.
  ['admin', 'health', 'metrics'],
  ['http'],
  ['prebuilds.module-definition'],
];
/** The wiring: these two may import anything. */
const TOP = new Set(['prebuilds.module', 'index']);
const LAYER_OF = new Map(LAYERS.flatMap((parts, layer) => parts.map((part) => [part, layer] as const)));

/**
 * Imports against the flow that are still there, each with why. Remove an entry with its import: the test fails
 * for an entry whose import is gone, so the list never overstates the debt.
 */
const KNOWN_DEBT: readonly { from: string; to: string; why: string }[] = [];

const ROOT = dirname(fileURLToPath(import.meta.url));
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g;

/** src/prebuilds/<part>/… → part; a root file → its name without `.ts`. */
function partOf(path: string): string {
  const [first, ...rest] = path.split('/');
  return rest.length > 0 ? first : first.replace(/\.ts$/, '');
}

interface Edge {
  from: string;
  to: string;
  file: string;
  target: string;
}

/** Every relative import between two parts, from the module's own code (specs and fixtures aside). */
function importEdges(): Edge[] {
  const files = (readdirSync(ROOT, { recursive: true }) as string[])
    .map((file) => file.split('\\').join('/'))
    .filter((file) => file.endsWith('.ts') && !/\.(spec|fixture)\.ts$/.test(file));
  const edges: Edge[] = [];
  for (const file of files) {
    for (const [, target] of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const resolved = relative(ROOT, normalize(join(ROOT, dirname(file), target)));
      const from = partOf(file);
      const to = partOf(resolved.replace(/\.js$/, '.ts'));
      if (from !== to) edges.push({ from, to, file, target });
    }
  }
  return edges;
}

const isDebt = (edge: { from: string; to: string }) =>
  KNOWN_DEBT.some((debt) => debt.from === edge.from && debt.to === edge.to);

describe('import flow of src/prebuilds', () => {
  const edges = importEdges();

  it('reads the import graph (a parser that finds nothing would pass every rule)', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual(
      expect.objectContaining({
        from: 'builder',
        to: 'database',
        file: 'builder/workspace-builder.service.ts',
      }),
    );
  });

  it('gives every part a place in the flow', () => {
    const parts = new Set(edges.flatMap((edge) => [edge.from, edge.to]));
    expect([...parts].filter((part) => !TOP.has(part) && !LAYER_OF.has(part)).sort()).toEqual([]);
  });

  it('imports only from lower layers', () => {
    const against = edges
      .filter((edge) => !TOP.has(edge.from) && !isDebt(edge))
      .filter((edge) => !((LAYER_OF.get(edge.to) ?? Infinity) < (LAYER_OF.get(edge.from) ?? -Infinity)))
      .map((edge) => `${edge.file} imports ${edge.target} (${edge.from} → ${edge.to})`);
    expect(against).toEqual([]);
  });

  it('lists only debt that is still there', () => {
    const gone = KNOWN_DEBT.filter(
      (debt) => !edges.some((edge) => edge.from === debt.from && edge.to === debt.to),
    );
    expect(gone).toEqual([]);
  });
});
