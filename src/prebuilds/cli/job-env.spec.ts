import { describe, expect, it } from '@jest/globals';
import { type DaemonJob, jobEnvironment, parameterVariable } from './job-env.js';
import { parseTags } from './tags.js';

const job: DaemonJob = {
  jobId: 'j',
  buildId: 'b',
  workspaceId: 'w',
  templateId: 't',
  templateVersionId: 'v',
  presetId: null,
  transition: 'start',
  buildNumber: 2,
  parameters: { region: 'eu', 'disk-size.gb': '20' },
  attempt: 1,
  leaseExpiresAt: '2026-01-01T00:00:00.000Z',
  tags: {},
  workerId: 'x:0',
  leaseMs: 30_000,
  heartbeatMs: 10_000,
};

describe('the build command environment', () => {
  it('names parameters PREBUILDS_PARAM_<NAME>, upper-cased, anything but letters and digits as _', () => {
    expect(parameterVariable('disk-size.gb')).toBe('PREBUILDS_PARAM_DISK_SIZE_GB');
  });

  it("carries the job and its parameters, never the tool's own secrets", () => {
    const env = jobEnvironment(job, {
      PATH: '/bin',
      PREBUILDS_PROVISIONER_KEY: 'pbk_x',
      PREBUILDS_TOKEN: 't',
    });
    expect(env).toEqual({
      PATH: '/bin',
      PREBUILDS_JOB_ID: 'j',
      PREBUILDS_BUILD_ID: 'b',
      PREBUILDS_WORKSPACE_ID: 'w',
      PREBUILDS_TRANSITION: 'start',
      PREBUILDS_TEMPLATE_ID: 't',
      PREBUILDS_TEMPLATE_VERSION_ID: 'v',
      PREBUILDS_PRESET_ID: '',
      PREBUILDS_BUILD_NUMBER: '2',
      PREBUILDS_ATTEMPT: '1',
      PREBUILDS_PARAM_REGION: 'eu',
      PREBUILDS_PARAM_DISK_SIZE_GB: '20',
      PREBUILDS_PARAMETERS: JSON.stringify(job.parameters),
    });
  });
});

describe('tags on the command line', () => {
  it('reads repeated and comma-separated k=v, refusing malformed and repeated keys', () => {
    expect(parseTags(['a=1,b=2', 'c=x=y'], '--tag')).toEqual({ a: '1', b: '2', c: 'x=y' });
    expect(() => parseTags(['a'], '--tag')).toThrow("--tag: expected key=value, got 'a'");
    expect(() => parseTags(['a=1', 'a=2'], '--tag')).toThrow("tag 'a' given twice");
  });
});
