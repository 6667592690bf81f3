import pg from 'pg';

export interface WaitProfile {
  samples: number;
  /** Share of busy backends per wait event ('CPU' = active and not waiting), highest first. */
  top: { event: string; share: number }[];
}

/**
 * Samples pg_stat_activity of one database while a scenario runs: what its busy backends wait on names the
 * bottleneck (a lock, the WAL, client round trips) better than any timing can.
 */
export async function sampleWaits(url: string, intervalMs = 20): Promise<{ stop(): Promise<WaitProfile> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let busy = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ event: string }>(
        `SELECT CASE WHEN wait_event IS NULL THEN 'CPU' ELSE wait_event_type || ':' || wait_event END AS event
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            AND state = 'active'`,
      );
      samples += 1;
      for (const row of rows) {
        counts.set(row.event, (counts.get(row.event) ?? 0) + 1);
        busy += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      const top = [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([event, n]) => ({ event, share: Math.round((n / Math.max(1, busy)) * 1000) / 1000 }));
      return { samples, top };
    },
  };
}
