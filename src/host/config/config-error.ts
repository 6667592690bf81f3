/**
 * A problem with how the process was configured or with its surroundings (a malformed URL, a taken port, an
 * unreachable database). main.ts prints its message as one line and exits non-zero, without a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
