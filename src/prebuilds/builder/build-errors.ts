/**
 * A build refused because its parameters do not satisfy the template version (a missing required parameter, a
 * value of the wrong type, an undeclared one). Distinct from every other failure: the reconciler marks the preset
 * `validation_failed` for this one only, and the HTTP layer answers 400.
 */
export class BuildValidationError extends Error {
  override readonly name = 'BuildValidationError';
}
