import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stopping and removing the test run's embedded PostgreSQL, knowing only the scratch folder global-setup.js made:
 * shared by global-teardown.js (a run that ends) and process-watchdog.js (a run that was interrupted or killed,
 * where jest runs no teardown).
 */

/** Where the cluster's data can be: the scratch folder, or where embedded-postgres.ts moves it as root. */
export function embeddedDataDirs(scratch) {
  const asked = resolve(join(scratch, 'postgres'));
  // Mirrors reachableDataDir in src/host/database/embedded-postgres.ts.
  const id = createHash('sha1').update(asked).digest('hex').slice(0, 12);
  return [asked, join('/var/tmp', `nest-prebuilds-data-${id}`, 'postgres')];
}

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  // An exited child its parent has not reaped yet still answers signal 0.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function exited(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The running postmaster of `dataDir`, or null; a stale pid file whose pid is now another process's is ignored. */
function postmasterPid(dataDir) {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir) ? pid : null;
  } catch {
    // No /proc (not Linux) or no such process: trust the file, alive() decides.
    return existsSync('/proc/self') ? null : pid;
  }
}

/**
 * Stops the server of each data folder as `pg_ctl stop -m fast` does (SIGINT to the postmaster: sessions are ended,
 * then a clean shutdown), escalating to an immediate shutdown and then SIGKILL if it does not go; then removes the
 * scratch folder and the moved data. Safe to run twice and on a cluster that never started.
 */
export async function stopAndRemoveEmbedded(scratch) {
  const dataDirs = embeddedDataDirs(scratch);
  for (const dataDir of dataDirs) {
    const pid = postmasterPid(dataDir);
    if (pid === null || !alive(pid)) continue;
    for (const [signal, waitMs] of [
      ['SIGINT', 10_000],
      ['SIGQUIT', 3_000],
      ['SIGKILL', 3_000],
    ]) {
      try {
        process.kill(pid, signal);
      } catch {
        break;
      }
      if (await exited(pid, waitMs)) break;
    }
  }
  await rm(scratch, { recursive: true, force: true });
  await rm(join(dataDirs[1], '..'), { recursive: true, force: true });
}

export { alive as processAlive };
