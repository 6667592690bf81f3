import { type Role, READ_ANY_WORKSPACE_ROLES } from './roles.js';

/** Who a workspace route is asked by: the subject the bearer middleware attached. */
export interface WorkspaceActor {
  id: string;
  roles: readonly string[];
}

/** Roles that may stop or delete anyone's workspace, and whom WORKSPACE_QUOTA does not limit. */
const MANAGE_ANY_WORKSPACE_ROLES: readonly Role[] = ['owner'];

const hasAny = (actor: WorkspaceActor, roles: readonly Role[]) =>
  actor.roles.some((role) => (roles as readonly string[]).includes(role));

/**
 * The host's workspace policy, on top of RBAC: the guard grants `workspaces:read` / `workspaces:create`, these narrow
 * them to the workspaces an actor may see or change (it cannot know whose workspace a route touches).
 */
export const workspaceAccess = {
  /** Its owner, or a role that reads anyone's (READ_ANY_WORKSPACE_ROLES). */
  mayRead: (actor: WorkspaceActor, ownerId: string): boolean =>
    actor.id === ownerId || hasAny(actor, READ_ANY_WORKSPACE_ROLES),
  /** Stop and delete: its owner, or an owner. */
  mayManage: (actor: WorkspaceActor, ownerId: string): boolean =>
    actor.id === ownerId || hasAny(actor, MANAGE_ANY_WORKSPACE_ROLES),
  /** Owners may own any number of live workspaces. */
  isQuotaExempt: (actor: WorkspaceActor): boolean => hasAny(actor, MANAGE_ANY_WORKSPACE_ROLES),
};
