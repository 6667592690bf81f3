/**
 * set_config calls for a snapshot's transaction, given the SQL expression of the work_mem value (an empty string keeps
 * the server's). See PrebuildsSnapshotRepository.applySessionSettings.
 */
export function sessionSettingsSql(workMem: string): string {
  return `set_config('jit', 'off', true),
          set_config('work_mem', COALESCE(NULLIF(${workMem}::text, ''), current_setting('work_mem')), true)`;
}

/** The work_mem value to set, '' to keep the server's. */
export function workMemSetting(workMemMb: number): string {
  return workMemMb > 0 ? `${Math.round(workMemMb)}MB` : '';
}
