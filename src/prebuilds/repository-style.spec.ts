import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository rule of database/README.md, as a test over the sources (like import-flow.spec.ts): every repository
 * is bound to the prebuilds DataSource, a method joining a caller's transaction takes its manager first, no service
 * reaches for `dataSource.manager`, and template lookups live in CatalogRepository. A repository or a file that breaks
 * a rule on purpose is listed below with why; the test fails for an entry that no longer applies, so the lists never
 * overstate the exceptions.
 */
const BOUND = normalize(
  '@InjectPrebuildsDataSource() private readonly dataSource: DataSource, private readonly ns: PrebuildsNamespace,',
);
const NAMESPACE_ONLY = normalize('private readonly ns: PrebuildsNamespace');

/** Repositories that need no DataSource, with why (their doc comments say it too). */
const WITHOUT_DATA_SOURCE: Readonly<Record<string, string>> = {
  ClaimRepository: 'builds the claim pool statements only; ClaimPool runs them on its own connections',
  PrebuildReportRepository: "every read runs in the status's REPEATABLE READ transaction",
};

/** Files besides database/catalog.repository.ts that read `FROM <schema>.templates`, with why. */
const TEMPLATE_READS_ELSEWHERE: Readonly<Record<string, string>> = {
  'database/claim.repository.ts':
    'claim pool statements: the claimable template (prepared on the claim connections) and the claim itself',
  'database/preset.repository.ts':
    "invalidateActiveVersion: its write's own guard, and the UPDATE … FROM join",
};

const ROOT = dirname(fileURLToPath(import.meta.url));
const TEMPLATE_READ = /FROM \$\{[^}]+\}\.templates\b/;

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/,\s*$/, '').trim();
}

/** The module's own code (specs and fixtures aside), by path relative to src/prebuilds. */
function sources(): Map<string, string> {
  return new Map(
    (readdirSync(ROOT, { recursive: true }) as string[])
      .map((file) => file.split('\\').join('/'))
      .filter((file) => file.endsWith('.ts') && !/\.(spec|fixture)\.ts$/.test(file))
      .map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]),
  );
}

interface RepositoryClass {
  file: string;
  name: string;
  /** The constructor's parameter list, whitespace normalised; '' when the class has none. */
  constructorParameters: string;
  /** Each method's name and parameter list (methods whose parameters hold no parentheses, which is all of them). */
  methods: { name: string; parameters: string }[];
}

/** The classes named …Repository in database/*.repository.ts. */
function repositories(files: Map<string, string>): RepositoryClass[] {
  const found: RepositoryClass[] = [];
  for (const [file, text] of files) {
    if (!/^database\/[^/]+\.repository\.ts$/.test(file)) continue;
    const classes = text.split(/^(?=export class |class )/m).slice(1);
    for (const body of classes) {
      const name = /^(?:export )?class (\w+)/.exec(body)?.[1] ?? '';
      if (!name.endsWith('Repository')) continue;
      const constructorParameters = normalize(/\bconstructor\(([\s\S]*?)\)\s*\{/.exec(body)?.[1] ?? '');
      const methods = [...body.matchAll(/^ {2}(?:(?:private|async|static) )*(\w+)\(([^()]*)\):/gm)].map(
        ([, method, parameters]) => ({ name: method, parameters: normalize(parameters) }),
      );
      found.push({ file, name, constructorParameters, methods });
    }
  }
  return found;
}

describe('repository style of src/prebuilds (database/README.md)', () => {
  const files = sources();
  const classes = repositories(files);

  it('reads the repositories (a parser that finds nothing would pass every rule)', () => {
    expect(classes.length).toBeGreaterThanOrEqual(13);
    expect(classes).toContainEqual(
      expect.objectContaining({
        name: 'ProvisionerJobRepository',
        constructorParameters: BOUND,
        methods: expect.arrayContaining([
          { name: 'lockJob', parameters: 'manager: EntityManager, jobId: string' },
        ]),
      }),
    );
    expect(files.get('database/catalog.repository.ts')).toMatch(TEMPLATE_READ);
  });

  it('binds every repository to the DataSource, (dataSource, ns) in that order', () => {
    const against = classes
      .filter((repository) => !Object.hasOwn(WITHOUT_DATA_SOURCE, repository.name))
      .filter((repository) => repository.constructorParameters !== BOUND)
      .map((repository) => `${repository.file} ${repository.name}(${repository.constructorParameters})`);
    expect(against).toEqual([]);
  });

  it('lists only repositories that indeed take the namespace alone', () => {
    const listed = Object.keys(WITHOUT_DATA_SOURCE);
    expect(
      classes
        .filter((repository) => listed.includes(repository.name))
        .map((repository) => [repository.name, repository.constructorParameters]),
    ).toEqual(
      classes
        .filter((repository) => listed.includes(repository.name))
        .map((repository) => [repository.name, NAMESPACE_ONLY]),
    );
    expect(classes.filter((repository) => listed.includes(repository.name)).length).toBe(listed.length);
  });

  it("takes a caller's manager first and required, never later or optional", () => {
    const against = classes.flatMap((repository) =>
      repository.methods
        .filter(({ parameters }) => /\bmanager\??:/.test(parameters))
        .filter(({ parameters }) => !parameters.startsWith('manager: EntityManager'))
        .map(({ name, parameters }) => `${repository.name}.${name}(${parameters})`),
    );
    expect(against).toEqual([]);
  });

  it('reads dataSource.manager only inside database/', () => {
    const against = [...files]
      .filter(([file, text]) => !file.startsWith('database/') && text.includes('dataSource.manager'))
      .map(([file]) => file);
    expect(against).toEqual([]);
  });

  it('reads templates in CatalogRepository, and elsewhere only where listed', () => {
    const reading = [...files].filter(([, text]) => TEMPLATE_READ.test(text)).map(([file]) => file);
    expect(reading.filter((file) => file !== 'database/catalog.repository.ts').sort()).toEqual(
      Object.keys(TEMPLATE_READS_ELSEWHERE).sort(),
    );
  });
});
