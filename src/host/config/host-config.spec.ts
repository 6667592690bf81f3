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
