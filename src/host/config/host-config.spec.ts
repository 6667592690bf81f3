import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './config-error.js';
import { loadHostConfig } from './host-config.js';

describe('loadHostConfig: HOST, DOCS_ENABLED, WORKSPACE_QUOTA', () => {
  it('defaults: every interface, docs on, 10 live workspaces', () => {
    const config = loadHostConfig({});
    expect([config.host, config.docsEnabled, config.workspaceQuota]).toEqual(['0.0.0.0', true, 10]);
  });

  it.each(['127.0.0.1', '::1', '::', 'localhost', '10.0.0.7'])('HOST=%s is the bind address', (host) => {
    expect(loadHostConfig({ HOST: host }).host).toBe(host);
  });

  it.each(['http://0.0.0.0', '0.0.0.0:3000x', 'a b', 'host;rm'])('HOST=%s is refused', (host) => {
    expect(() => loadHostConfig({ HOST: host })).toThrow(ConfigError);
  });

  it('DOCS_ENABLED=false turns the docs off; WORKSPACE_QUOTA takes 0 (off) to 100000', () => {
    expect(loadHostConfig({ DOCS_ENABLED: 'false' }).docsEnabled).toBe(false);
    expect(loadHostConfig({ WORKSPACE_QUOTA: '0' }).workspaceQuota).toBe(0);
    expect(loadHostConfig({ WORKSPACE_QUOTA: '3' }).workspaceQuota).toBe(3);
    for (const bad of ['-1', '1.5', 'ten', '100001']) {
      expect(() => loadHostConfig({ WORKSPACE_QUOTA: bad })).toThrow(/WORKSPACE_QUOTA/);
    }
    expect(() => loadHostConfig({ DOCS_ENABLED: 'maybe' })).toThrow(/DOCS_ENABLED/);
  });
});

describe('loadHostConfig: the module options', () => {
  it('passes only what the environment sets, so the module applies its own defaults to the rest', () => {
    expect(loadHostConfig({}).prebuilds).toEqual({});
    expect(
      loadHostConfig({ PREBUILDS_MAX_INSTANCES_PER_PRESET: '20', PREBUILDS_MAX_CREATES_PER_CYCLE: '50' })
        .prebuilds,
    ).toEqual({ maxInstancesPerPreset: 20, maxCreatesPerCycle: 50 });
    expect(
      loadHostConfig({ PREBUILDS_MAX_IN_FLIGHT_CREATES: '7', PREBUILDS_MAX_PREBUILDS: '900' }).prebuilds,
    ).toEqual({ maxInFlightCreates: 7, maxPrebuilds: 900 });
  });

  it('refuses a cap that is not a whole number in range, naming the variable', () => {
    expect(() => loadHostConfig({ PREBUILDS_MAX_INSTANCES_PER_PRESET: '1001' })).toThrow(
      /PREBUILDS_MAX_INSTANCES_PER_PRESET/,
    );
    expect(() => loadHostConfig({ PREBUILDS_MAX_PREBUILDS: 'lots' })).toThrow(/PREBUILDS_MAX_PREBUILDS/);
  });
});

describe('loadHostConfig: what main.ts prints as its one line', () => {
  it.each([
    ['a malformed DATABASE_URL', { DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a valid URL/],
    [
      'a DATABASE_URL of another kind',
      { DATABASE_URL: 'mysql://x@127.0.0.1/db' },
      /must start with postgres/,
    ],
    ['a PORT that is not a number', { PORT: 'abc' }, /^PORT must be a whole number/],
    ['a bad PREBUILDS_INTERVAL_MS', { PREBUILDS_INTERVAL_MS: '-5' }, /^PREBUILDS_INTERVAL_MS must be/],
  ])('refuses %s with a ConfigError naming it', (_name, env, message) => {
    expect(() => loadHostConfig(env)).toThrow(ConfigError);
    expect(() => loadHostConfig(env)).toThrow(message);
  });
});
