/** Every permission a route of this host checks: the module's own, and the host's. */
export const PERMISSIONS = [
  'templates:read',
  'templates:update',
  'prebuilds:read',
  'prebuilds:reconcile',
  'prebuilds:admin',
  'workspaces:create',
  'workspaces:read',
  'users:create',
  'provisioners:admin',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'template-admin', 'auditor', 'member'] as const;

export type Role = (typeof ROLES)[number];

/**
 * DESIGN.md's roles table, the host's own (the module only declares the permissions its routes need). `member` gets
 * `workspaces:read` for its own workspaces only: RBAC grants the permission, the workspace route narrows it to the
 * owner (the guard cannot know whose workspace a route reads).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: PERMISSIONS,
  'template-admin': [
    'templates:read',
    'templates:update',
    'prebuilds:read',
    'prebuilds:reconcile',
    'workspaces:create',
    'workspaces:read',
  ],
  auditor: ['templates:read', 'prebuilds:read', 'workspaces:read'],
  member: ['templates:read', 'workspaces:create', 'workspaces:read'],
};

/** Roles that may read anyone's workspace; everyone else with workspaces:read sees only their own. */
export const READ_ANY_WORKSPACE_ROLES: readonly Role[] = ['owner', 'template-admin', 'auditor'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The union of the roles' permissions. Unknown role names grant nothing (fail closed), they do not throw. */
export function permissionsOf(roles: readonly string[]): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) {
    if (!isRole(role)) continue;
    for (const permission of ROLE_PERMISSIONS[role]) granted.add(permission);
  }
  return granted;
}
