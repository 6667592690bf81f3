import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { DEMAND_WINDOWS, windowMinutes, type DemandWindow } from './demand.js';

/**
 * DESIGN.md rule 12: a preset's target as a CEL expression over its own numbers.
 *
 * CEL (cel-js) rather than a general language: no loops, no I/O, bounded cost, and a type checker, so that the API
 * can refuse `claims_10m + "2"` or a boolean result when the template is pushed instead of a cycle finding out. Every
 * variable is declared with its type; CEL converts nothing implicitly (`double(claims_10m) * 1.5`, then `ceil(…)`).
 */

/** The numbers an expression sees, all integers except the claim rates (claims per minute over the window). */
export interface TargetVariables {
  /** The preset's own instance count (its `desiredInstances`). */
  base: number;
  /** What rule 2 gives without the expression: the matching schedule's count, else `base`. */
  scheduled_target: number;
  /** Running prebuilds that are not expired. */
  running: number;
  eligible: number;
  starting: number;
  stopping: number;
  deleting: number;
  expired: number;
  /** Hour (0-23) and weekday (0 = Sunday) at the cycle's `now` in the preset's time zone (UTC when it has none). */
  hour: number;
  weekday: number;
  claims: Readonly<Record<DemandWindow, number>>;
  misses: Readonly<Record<DemandWindow, number>>;
}

const INT_VARIABLES = [
  'base',
  'scheduled_target',
  'running',
  'eligible',
  'starting',
  'stopping',
  'deleting',
  'expired',
  'hour',
  'weekday',
] as const;

/** Every variable name with its CEL type, for the API's documentation and the checker. */
export const TARGET_VARIABLES: Readonly<Record<string, 'int' | 'double'>> = Object.freeze(
  Object.fromEntries<'int' | 'double'>([
    ...INT_VARIABLES.map((name) => [name, 'int'] as const),
    ...DEMAND_WINDOWS.flatMap((w) => [
      [`claims_${w}`, 'int'] as const,
      [`misses_${w}`, 'int'] as const,
      [`claim_rate_${w}`, 'double'] as const,
    ]),
  ]),
);

/** The longest expression the API stores; a target needs a line or two, not a program. */
export const MAX_TARGET_EXPRESSION_LENGTH = 1_000;

function buildEnvironment(): Environment {
  const env = new Environment({ limits: { maxAstNodes: 500, maxDepth: 50 } });
  for (const [name, type] of Object.entries(TARGET_VARIABLES)) env.registerVariable(name, type);
  // CEL's standard library has no arithmetic helpers; these are the ones a pool size needs.
  const larger = <T extends bigint | number>(a: T, b: T): T => (a > b ? a : b);
  const smaller = <T extends bigint | number>(a: T, b: T): T => (a < b ? a : b);
  env
    .registerFunction('max(int, int): int', larger<bigint>)
    .registerFunction('max(double, double): double', larger<number>)
    .registerFunction('min(int, int): int', smaller<bigint>)
    .registerFunction('min(double, double): double', smaller<number>)
    .registerFunction('abs(int): int', (a: bigint) => (a < 0n ? -a : a))
    .registerFunction('abs(double): double', (a: number) => Math.abs(a))
    .registerFunction('ceil(double): int', (a: number) => toInt(Math.ceil(a)))
    .registerFunction('floor(double): int', (a: number) => toInt(Math.floor(a)))
    .registerFunction('round(double): int', (a: number) => toInt(Math.round(a)))
    .registerFunction('clamp(int, int, int): int', (v: bigint, lo: bigint, hi: bigint) => {
      if (lo > hi) throw new Error(`clamp: lower bound ${lo} is above upper bound ${hi}`);
      return v < lo ? lo : v > hi ? hi : v;
    });
  return env;
}

function toInt(n: number): bigint {
  if (!Number.isFinite(n)) throw new Error(`${n} is not a finite number`);
  return BigInt(n);
}

let environment: Environment | undefined;
const env = (): Environment => (environment ??= buildEnvironment());

/** Why an expression was refused, with where (1-based line and column of the offending part). */
export interface TargetExpressionProblem {
  message: string;
  line: number;
  column: number;
}

/** One variable an expression uses: its name, and how to read its plain value from the cycle's numbers. */
interface Input {
  name: string;
  read: (vars: TargetVariables) => number;
  double: boolean;
}

interface Runnable {
  ok: true;
  run: ParseResult;
  /** Only the variables the text names: building all 25 per preset cost more than evaluating. */
  inputs: readonly Input[];
  /**
   * Results by the values of `inputs`. Presets in a steady state share a handful of value tuples, and an expression
   * is a pure function of them, so most presets of a cycle are a lookup.
   */
  results: Map<string, TargetEvaluation>;
}

type Compiled = Runnable | { ok: false; problem: TargetExpressionProblem };

const INPUTS: ReadonlyMap<string, Input> = new Map(
  [
    ...INT_VARIABLES.map((name) => ({ name, read: (v: TargetVariables) => v[name], double: false })),
    ...DEMAND_WINDOWS.flatMap((w) => [
      { name: `claims_${w}`, read: (v: TargetVariables) => v.claims[w], double: false },
      { name: `misses_${w}`, read: (v: TargetVariables) => v.misses[w], double: false },
      { name: `claim_rate_${w}`, read: (v: TargetVariables) => v.claims[w] / windowMinutes(w), double: true },
    ]),
  ].map((input) => [input.name, input]),
);

/** The variables an expression's text names (a name inside a string literal only costs a lookup). */
function inputsOf(source: string): Input[] {
  const names = new Set(source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
  return [...names].flatMap((name) => INPUTS.get(name) ?? []);
}

const RESULTS_LIMIT = 1_000;

/** Presets share few distinct expressions; the limit only guards a long-lived process against unbounded input. */
const CACHE_LIMIT = 10_000;
const compiled = new Map<string, Compiled>();

function position(source: string, offset: number | undefined): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, offset ?? 0));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function problemOf(source: string, error: unknown): TargetExpressionProblem {
  const cel = error as { summary?: string; message?: string; range?: { start: number } };
  return {
    message: cel.summary ?? cel.message ?? String(error),
    ...position(source, cel.range?.start),
  };
}

function compile(source: string): Compiled {
  const hit = compiled.get(source);
  if (hit) return hit;
  let result: Compiled;
  if (source.length > MAX_TARGET_EXPRESSION_LENGTH) {
    result = {
      ok: false,
      problem: { message: `longer than ${MAX_TARGET_EXPRESSION_LENGTH} characters`, line: 1, column: 1 },
    };
  } else {
    const checked = env().check(source);
    if (!checked.valid) result = { ok: false, problem: problemOf(source, checked.error) };
    else if (checked.type !== 'int' && checked.type !== 'double')
      result = {
        ok: false,
        problem: { message: `must give a number (int or double), not ${checked.type}`, line: 1, column: 1 },
      };
    else result = { ok: true, run: env().parse(source), inputs: inputsOf(source), results: new Map() };
  }
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(source, result);
  return result;
}

/** Whether the expression names a claim window (claims_…, misses_…, claim_rate_…): only then must a cycle read them. */
export function readsDemand(source: string): boolean {
  const result = compile(source);
  return result.ok && result.inputs.some((input) => /^(claims|misses|claim_rate)_/.test(input.name));
}

/** Null when `source` parses, type-checks and gives a number; else what is wrong and where. For input validation. */
export function checkTargetExpression(source: string): TargetExpressionProblem | null {
  const result = compile(source);
  return result.ok ? null : result.problem;
}

export type TargetEvaluation = { value: number; error: null } | { value: null; error: string };

/**
 * The expression's value for these numbers: a whole number (a double with a fraction is an error, as in Coder: say
 * `ceil` or `floor`), not yet clamped. Errors (refused at input, or stored before a check existed, or a runtime
 * failure such as a division by zero) come back as text, never thrown: the engine falls back to the scheduled target.
 */
export function evaluateTargetExpression(source: string, vars: TargetVariables): TargetEvaluation {
  const result = compile(source);
  if (!result.ok) {
    const { message, line, column } = result.problem;
    return { value: null, error: `${message} (line ${line}, column ${column})` };
  }
  const values = result.inputs.map((input) => input.read(vars));
  const key = values.join(',');
  const known = result.results.get(key);
  if (known) return known;
  const evaluation = evaluate(source, result, values);
  if (result.results.size >= RESULTS_LIMIT) result.results.clear();
  result.results.set(key, evaluation);
  return evaluation;
}

function evaluate(source: string, compiled: Runnable, values: readonly number[]): TargetEvaluation {
  const context: Record<string, bigint | number> = {};
  compiled.inputs.forEach((input, i) => {
    context[input.name] = input.double ? values[i] : BigInt(Math.trunc(values[i]));
  });
  let raw: unknown;
  try {
    raw = compiled.run(context);
  } catch (error) {
    return { value: null, error: problemOf(source, error).message };
  }
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { value: null, error: `gave ${String(raw)}, not a finite number` };
  if (!Number.isInteger(value))
    return { value: null, error: `gave ${value}, not a whole number (use ceil, floor or round)` };
  return { value, error: null };
}
