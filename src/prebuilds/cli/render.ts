import Table from 'cli-table3';

/** Plain tables (no colours: the output is read by people and grepped by scripts alike). */
export function table(head: string[], rows: (string | number)[][]): string {
  const out = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const row of rows) out.push(row.map(String));
  return out.toString();
}

interface ReconciliationState {
  desired: number;
  actual: number;
  eligible: number;
  extraneous: number;
  expired: number;
  starting: number;
  stopping: number;
  deleting: number;
}

type Action =
  | { type: 'create'; count: number }
  | { type: 'delete'; workspaceIds: string[] }
  | { type: 'backoff'; until: string }
  | { type: 'cancel_pending' };

export interface StatusAnswer {
  paused: boolean;
  lastCycleAt: string | null;
  lastCycleAgeMs?: number | null;
  presets: (ReconciliationState & {
    presetId: string;
    presetName: string;
    templateName: string;
    active: boolean;
    status: string;
    desiredSource: string;
    failed: number;
    stopped: number;
    backoffUntil: string | null;
  })[];
}

export interface PlanAnswer {
  paused: boolean;
  presets: { presetId: string; state: ReconciliationState; actions: Action[]; cappedBy?: string | null }[];
}

export interface ReconcileAnswer {
  acquired: boolean;
  paused?: boolean;
  elapsedMs: number;
  presets: { presetId: string; state: ReconciliationState; actions: Action[]; errors: string[] }[];
}

export interface ProvisionerKeyAnswer {
  id: string;
  name: string;
  tags: Record<string, string>;
  createdAt: string;
  revokedAt: string | null;
  key?: string;
}

/** The route's windows, spelled out here: the tool imports nothing of the module's server side. */
export const HISTORY_WINDOWS = ['1h', '24h', '7d'] as const;

export interface HistoryAnswer {
  presetId: string;
  window: string;
  resolutionSeconds: number;
  from: string;
  to: string;
  samples: {
    at: string;
    desired: number;
    running: number;
    eligible: number;
    starting: number;
    claims: number;
    misses: number;
  }[];
}

export function renderHistory(history: HistoryAnswer): string {
  const header =
    `preset ${history.presetId} · last ${history.window} in ${history.resolutionSeconds} s buckets ` +
    `(${history.from} to ${history.to})`;
  if (history.samples.length === 0) return `${header}\nno samples yet (the first full cycle records one)`;
  const rows = history.samples.map((s) => [
    s.at,
    s.desired,
    s.running,
    s.eligible,
    s.starting,
    s.claims,
    s.misses,
  ]);
  return `${header}\n${table(['AT', 'DESIRED', 'RUNNING', 'ELIGIBLE', 'STARTING', 'CLAIMS', 'MISSES'], rows)}`;
}

export function renderStatus(status: StatusAnswer): string {
  const age =
    status.lastCycleAgeMs === null || status.lastCycleAgeMs === undefined
      ? ''
      : ` (${Math.round(status.lastCycleAgeMs / 1000)} s ago)`;
  const header = `reconciliation: ${status.paused ? 'paused' : 'running'} · last cycle: ${status.lastCycleAt ?? 'never'}${age}`;
  if (status.presets.length === 0) return `${header}\nno presets`;
  const rows = status.presets.map((p) => [
    p.templateName,
    p.presetName,
    p.presetId,
    p.active ? p.status : `${p.status} (inactive)`,
    p.desiredSource === 'base' ? p.desired : `${p.desired} (${p.desiredSource})`,
    p.actual,
    p.eligible,
    p.starting,
    p.stopping,
    p.deleting,
    p.expired,
    p.failed,
    p.backoffUntil ?? '',
  ]);
  const head = [
    'TEMPLATE',
    'PRESET',
    'PRESET ID',
    'STATUS',
    'DESIRED',
    'ACTUAL',
    'ELIGIBLE',
    'STARTING',
    'STOPPING',
    'DELETING',
    'EXPIRED',
    'FAILED',
    'BACKOFF UNTIL',
  ];
  return `${header}\n${table(head, rows)}`;
}

export function describeActions(actions: Action[]): string {
  if (actions.length === 0) return 'none';
  return actions
    .map((action) => {
      switch (action.type) {
        case 'create':
          return `create ${action.count}`;
        case 'delete':
          return `delete ${action.workspaceIds.length}`;
        case 'backoff':
          return `backoff until ${action.until}`;
        case 'cancel_pending':
          return 'cancel pending';
        default:
          return String((action as { type: unknown }).type);
      }
    })
    .join(', ');
}

export function renderPlan(plan: PlanAnswer): string {
  const header = `reconciliation: ${plan.paused ? 'paused (a cycle now would do nothing)' : 'running'}`;
  if (plan.presets.length === 0) return `${header}\nno presets`;
  const rows = plan.presets.map((p) => [
    p.presetId,
    p.state.desired,
    p.state.actual,
    p.state.eligible,
    p.state.starting,
    describeActions(p.actions),
    p.cappedBy ?? '',
  ]);
  return `${header}\n${table(['PRESET ID', 'DESIRED', 'ACTUAL', 'ELIGIBLE', 'STARTING', 'ACTIONS', 'CAPPED BY'], rows)}`;
}

export function renderReconcile(result: ReconcileAnswer): string {
  const header = `cycle ran in ${result.elapsedMs} ms${result.paused ? ' (paused: nothing done)' : ''}`;
  if (result.presets.length === 0) return `${header}\nno presets`;
  const rows = result.presets.map((p) => [
    p.presetId,
    p.state.desired,
    p.state.actual,
    describeActions(p.actions),
    p.errors.join('; '),
  ]);
  return `${header}\n${table(['PRESET ID', 'DESIRED', 'ACTUAL', 'ACTIONS', 'ERRORS'], rows)}`;
}

export function describeTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function renderKeys(keys: ProvisionerKeyAnswer[]): string {
  if (keys.length === 0) return 'no provisioner keys';
  return table(
    ['ID', 'NAME', 'TAGS', 'CREATED', 'REVOKED'],
    keys.map((k) => [k.id, k.name, describeTags(k.tags), k.createdAt, k.revokedAt ?? '']),
  );
}
