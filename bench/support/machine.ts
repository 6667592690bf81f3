import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { withClient } from './pg.js';
import { megabytes, round } from './stats.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramMb: number;
  os: string;
  node: string;
  /** Other work on the machine skews every figure; recorded so that a noisy run can be recognised. */
  loadAverageAtStart: number[];
  postgres: { source: string; version: string; settings: Record<string, string> };
}

const SETTINGS = ['shared_buffers', 'work_mem', 'fsync', 'synchronous_commit', 'max_connections', 'jit'];

export async function describeMachine(adminUrl: string, source: string): Promise<MachineInfo> {
  const cpuList = cpus();
  const postgres = await withClient(adminUrl, async (client) => {
    const version = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))
      .rows[0].v;
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])`,
      [SETTINGS],
    );
    return { source, version, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
  });
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    ramMb: megabytes(totalmem()),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverageAtStart: loadavg().map((x) => round(x)),
    postgres,
  };
}
