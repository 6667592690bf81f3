/** What the daemon reads from an acquired job (the API's answer, as JSON). */
export interface DaemonJob {
  jobId: string;
  buildId: string;
  workspaceId: string;
  templateId: string;
  templateVersionId: string;
  presetId: string | null;
  transition: 'start' | 'stop' | 'delete';
  buildNumber: number;
  parameters: Record<string, string>;
  attempt: number;
  leaseExpiresAt: string;
  tags: Record<string, string>;
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
}

/** Secrets of the tool itself, never handed to a build command. */
const WITHHELD = ['PREBUILDS_PROVISIONER_KEY', 'PREBUILDS_TOKEN'];

/** `region` → PREBUILDS_PARAM_REGION, `disk-size.gb` → PREBUILDS_PARAM_DISK_SIZE_GB. */
export function parameterVariable(name: string): string {
  return `PREBUILDS_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * The build command's environment: the daemon's own (minus its secrets), then the job's. Parameters whose names map
 * to the same variable keep the first in name order; PREBUILDS_PARAMETERS has them all, as JSON.
 */
export function jobEnvironment(job: DaemonJob, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of WITHHELD) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('PREBUILDS_PARAM_')) delete env[name];
  const params: Record<string, string> = {};
  for (const name of Object.keys(job.parameters).sort()) {
    const variable = parameterVariable(name);
    if (!(variable in params)) params[variable] = String(job.parameters[name]);
  }
  return {
    ...env,
    ...params,
    PREBUILDS_JOB_ID: job.jobId,
    PREBUILDS_BUILD_ID: job.buildId,
    PREBUILDS_WORKSPACE_ID: job.workspaceId,
    PREBUILDS_TRANSITION: job.transition,
    PREBUILDS_TEMPLATE_ID: job.templateId,
    PREBUILDS_TEMPLATE_VERSION_ID: job.templateVersionId,
    PREBUILDS_PRESET_ID: job.presetId ?? '',
    PREBUILDS_BUILD_NUMBER: String(job.buildNumber),
    PREBUILDS_ATTEMPT: String(job.attempt),
    PREBUILDS_PARAMETERS: JSON.stringify(job.parameters),
  };
}
