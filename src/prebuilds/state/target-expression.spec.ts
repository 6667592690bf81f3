import { describe, expect, it } from '@jest/globals';
import { NO_DEMAND } from './demand.js';
import {
  checkTargetExpression,
  evaluateTargetExpression,
  readsDemand,
  type TargetVariables,
} from './target-expression.js';

const vars = (overrides: Partial<TargetVariables> = {}): TargetVariables => ({
  base: 2,
  scheduled_target: 3,
  running: 1,
  eligible: 1,
  starting: 0,
  stopping: 0,
  deleting: 0,
  expired: 0,
  hour: 12,
  weekday: 1,
  claims: { ...NO_DEMAND, '10m': 6, '60m': 30 },
  misses: { ...NO_DEMAND, '10m': 1 },
  ...overrides,
});

describe('checkTargetExpression', () => {
  it.each([
    'claims_10m + 2',
    'max(scheduled_target, claims_10m + 2)',
    'ceil(claim_rate_60m * 10.0)',
    'weekday == 0 || weekday == 6 ? 0 : clamp(claims_30m, base, 20)',
    'double(eligible) * 1.5',
  ])('accepts %s', (source) => {
    expect(checkTargetExpression(source)).toBeNull();
  });

  it.each([
    ['claims_10m +', 'Unexpected token: EOF', 1, 13],
    ['claims_10m + "2"', 'no such overload: int + string', 1, 1],
    ['base +\n  unknown_var', 'Unknown variable: unknown_var', 2, 3],
    ['claims_10m > 3', 'must give a number (int or double), not bool', 1, 1],
    ['claims_10m + 1.5', 'no such overload: int + double', 1, 1],
  ])('refuses %j: %s at %i:%i', (source, message, line, column) => {
    expect(checkTargetExpression(source)).toEqual({ message, line, column });
  });

  it('refuses an expression longer than it stores', () => {
    expect(checkTargetExpression(`base${' + 1'.repeat(300)}`)?.message).toMatch(/longer than 1000/);
  });
});

describe('evaluateTargetExpression', () => {
  it('sees every variable with its value', () => {
    expect(evaluateTargetExpression('claims_10m + misses_10m + base', vars())).toEqual({
      value: 9,
      error: null,
    });
    expect(evaluateTargetExpression('ceil(claim_rate_60m * 4.0)', vars())).toEqual({ value: 2, error: null });
    expect(evaluateTargetExpression('hour * 10 + weekday', vars())).toEqual({ value: 121, error: null });
    expect(evaluateTargetExpression('scheduled_target', vars())).toEqual({ value: 3, error: null });
  });

  it('gives negative values unclamped (the engine floors them)', () => {
    expect(evaluateTargetExpression('base - 10', vars())).toEqual({ value: -8, error: null });
  });

  it('reports a runtime error instead of throwing', () => {
    expect(evaluateTargetExpression('base / (eligible - 1)', vars())).toEqual({
      value: null,
      error: 'division by zero',
    });
    expect(evaluateTargetExpression('clamp(base, 5, 1)', vars()).error).toMatch(/lower bound 5 is above/);
  });

  it('refuses a fraction and names the way out', () => {
    expect(evaluateTargetExpression('double(base) / 4.0', vars()).error).toBe(
      'gave 0.5, not a whole number (use ceil, floor or round)',
    );
    expect(evaluateTargetExpression('double(base) * 2.0', vars())).toEqual({ value: 4, error: null });
  });

  it('reports an expression that never checked, with its position', () => {
    expect(evaluateTargetExpression('base +', vars()).error).toBe('Unexpected token: EOF (line 1, column 7)');
  });
});

describe('readsDemand', () => {
  it('is true only for an expression that names a claim window', () => {
    expect(readsDemand('max(base, claims_10m)')).toBe(true);
    expect(readsDemand('ceil(claim_rate_60m)')).toBe(true);
    expect(readsDemand('misses_5m')).toBe(true);
    expect(readsDemand('weekday == 0 ? 0 : scheduled_target')).toBe(false);
    expect(readsDemand('claims_10m +')).toBe(false);
  });
});
