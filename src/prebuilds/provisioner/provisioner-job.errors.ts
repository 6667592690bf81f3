export type ProvisionerJobErrorCode =
  | 'job_not_found'
  | 'job_not_running'
  | 'job_already_completed'
  | 'agent_not_found'
  | 'invalid_lifecycle_state'
  /** The worker no longer holds the job's lease: it expired and the job was re-queued, taken by another worker or
   * ended. The worker must drop the job (its result is not recorded). */
  | 'lease_lost';

/**
 * A provisioner asked for something its job or agent does not allow (completing a job it does not hold, reporting
 * for an unknown agent). The code is stable so that a daemon, or an HTTP layer in front of it, can branch on it.
 */
export class ProvisionerJobError extends Error {
  override readonly name = 'ProvisionerJobError';

  constructor(
    readonly code: ProvisionerJobErrorCode,
    message: string,
  ) {
    super(message);
  }
}
