import { describe, expect, it } from '@jest/globals';
import { resolvePrebuildsOptions } from './prebuilds.options.js';

// Pure validation of the module's options; that each forRoot/forRootAsync form resolves them through this function
// is test/module/prebuilds-module.int-spec.ts's business.
describe('resolvePrebuildsOptions', () => {
  it('applies the defaults to what is not given and keeps what is', () => {
    const resolved = resolvePrebuildsOptions({ concurrency: 3, maxPrebuilds: 10 });
    expect(resolved).toMatchObject({
      schema: 'prebuilds',
      enabled: true,
      concurrency: 3,
      maxPrebuilds: 10,
      reconcileIntervalMs: 60_000,
      failureHardLimit: 3,
      authorization: null,
      metricsToken: null,
    });
  });

  it('accepts the edges: zero where >= 0, an uncapped Infinity', () => {
    expect(() =>
      resolvePrebuildsOptions({ failureHardLimit: 0, maxPrebuilds: 0, maxInFlightCreates: Infinity }),
    ).not.toThrow();
  });

  it.each([
    [{ reconcileIntervalMs: 0 }, 'reconcileIntervalMs must be > 0'],
    [{ concurrency: -1 }, 'concurrency must be > 0'],
    [{ concurrency: Number.NaN }, 'concurrency must be > 0'],
    [{ failureHardLimit: -1 }, 'failureHardLimit must be >= 0'],
    [{ maxPrebuilds: -1 }, 'maxPrebuilds must be >= 0'],
    [{ maxCreatesPerCycle: 2.5 }, 'maxCreatesPerCycle must be an integer'],
    [
      { provisionerLeaseMs: 1_000, provisionerHeartbeatMs: 1_000 },
      'provisionerHeartbeatMs must be < provisionerLeaseMs',
    ],
    [{ schema: 'Prebuilds' }, 'must be 1-40 characters'],
    [{ schema: 'public' }, 'is reserved'],
    [{ prebuildsOwnerId: '' }, 'prebuildsOwnerId must be 1-200 characters'],
  ])('refuses %j', (options, message) => {
    expect(() => resolvePrebuildsOptions(options)).toThrow(message);
  });
});
