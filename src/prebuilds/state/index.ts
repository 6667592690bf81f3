export type {
  BackoffRow,
  CreationBlock,
  DesiredSource,
  InProgressRow,
  PendingNonActiveRow,
  PrebuildScheduleRow,
  PrebuildStatus,
  PresetRow,
  ReconciliationAction,
  ReconciliationState,
  RunningPrebuildRow,
  SnapshotInput,
  Transition,
} from './types.js';
export { isValidTimezone, matchesCron, schedulesOverlap, validateScheduleCron } from './cron-schedule.js';
export { resolveDesiredTarget, usableSchedules, type DesiredTarget } from './desired-target.js';
export { GlobalSnapshot, UnknownPresetError } from './global-snapshot.js';
export { PresetSnapshot, type InProgressCounts, type PresetSnapshotInput } from './preset-snapshot.js';
export { ExpiryRule, RunningPrebuilds } from './running-prebuilds.js';
export {
  allocateCreates,
  CAP_NAMES,
  capRoom,
  type CapName,
  type ClusterTotals,
  type CreateAllocation,
  type CreateCaps,
  type CreateGrant,
} from './create-caps.js';
export { deleteCount, planCycle, type PresetPlan } from './cycle-plan.js';
export { DEMAND_WINDOWS, hitRates, type DemandRow, type DemandWindow, type WindowCounts } from './demand.js';
export { type ExpressionOutcome } from './desired-target.js';
export {
  checkTargetExpression,
  evaluateTargetExpression,
  MAX_TARGET_EXPRESSION_LENGTH,
  readsDemand,
  TARGET_VARIABLES,
  type TargetEvaluation,
  type TargetExpressionProblem,
  type TargetVariables,
} from './target-expression.js';
