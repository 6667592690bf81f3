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
  UserNotFound = 'USER_NOT_FOUND',
  NameTaken = 'NAME_TAKEN',
  ReconcileInProgress = 'RECONCILE_IN_PROGRESS',
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
