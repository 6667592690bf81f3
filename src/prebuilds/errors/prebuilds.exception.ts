/** Stable error codes: clients match on these, so they never change meaning. */
export enum PrebuildsErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  ValidationFailed = 'VALIDATION_FAILED',
  InvalidParameters = 'INVALID_PARAMETERS',
  PresetNotActive = 'PRESET_NOT_ACTIVE',
  TemplateNotFound = 'TEMPLATE_NOT_FOUND',
  PresetNotFound = 'PRESET_NOT_FOUND',
  WorkspaceNotFound = 'WORKSPACE_NOT_FOUND',
  NameTaken = 'NAME_TAKEN',
  ReconcileInProgress = 'RECONCILE_IN_PROGRESS',
  /** The `Prebuilds-Provisioner-Key` header is missing, malformed, unknown or revoked. */
  ProvisionerKeyInvalid = 'PROVISIONER_KEY_INVALID',
  ProvisionerKeyNotFound = 'PROVISIONER_KEY_NOT_FOUND',
  /** No such provisioner job, or one whose tags the calling key does not match. */
  JobNotFound = 'JOB_NOT_FOUND',
  AgentNotFound = 'AGENT_NOT_FOUND',
  BuildNotFound = 'BUILD_NOT_FOUND',
  /** The worker no longer holds the job's lease (expired and re-queued, another worker's, or ended): drop the job. */
  LeaseLost = 'LEASE_LOST',
  /** The job already ended with another outcome than the one reported now. */
  JobAlreadyCompleted = 'JOB_ALREADY_COMPLETED',
  /** The owner already has as many live workspaces as the host's quota allows. */
  QuotaExceeded = 'QUOTA_EXCEEDED',
  // Generic codes for errors that Nest or the HTTP layer raise (HttpException, body-parser), so that every answer of
  // our routes carries a code from this one enum.
  BadRequest = 'BAD_REQUEST',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  Unavailable = 'UNAVAILABLE',
  /** The database cannot serve now (unreachable, read-only, out of connections, no connection in time): retry. */
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  Internal = 'INTERNAL',
}

/** The one exception type our services throw; a filter maps its code to an HTTP status. */
export class PrebuildsException extends Error {
  override readonly name = 'PrebuildsException';

  constructor(
    readonly code: PrebuildsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
