/** The exit codes of `nest-prebuilds`, for scripts (documented in the package README). */
export const ExitCode = {
  Ok: 0,
  /** The API answered an error (its code and message are printed on one line). */
  ApiError: 1,
  /** The command line is wrong: an unknown command or option, a missing argument or token. */
  Usage: 2,
  /** The API could not be reached (connection refused, DNS, timeout). */
  Unreachable: 3,
  /** The token or provisioner key was refused (401 or 403). */
  Refused: 4,
  /** `reconcile`: a cycle is already running on this or another replica (409 RECONCILE_IN_PROGRESS). */
  ReconcileInProgress: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
