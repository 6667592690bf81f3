import type { PrebuildsSubject } from './subject.js';

/**
 * The permissions the module's own routes require (DESIGN.md, HTTP surface). Roles are the host's: it maps them to
 * these (and to its own permissions, which its routes may check with the same guard).
 */
export const PREBUILDS_PERMISSIONS = [
  'prebuilds:read',
  'prebuilds:reconcile',
  'prebuilds:admin',
  'templates:update',
  'provisioners:admin',
] as const;

export type PrebuildsPermission = (typeof PREBUILDS_PERMISSIONS)[number];

/**
 * A permission a route checks: one of the module's, or any string a host's own routes declare with
 * `@RequirePermission` (the module passes it to the host's authorization unchanged).
 */
export type Permission = PrebuildsPermission | (string & {});

/** Decides whether a subject holds a permission; may be async (a host's policy service). */
export type AuthorizeFunction = (
  subject: PrebuildsSubject,
  permission: Permission,
) => boolean | Promise<boolean>;

/**
 * How the module authorises: the host's role → permissions map (a subject holds the union of its roles'), or the
 * host's own function. Without either, every guarded route is denied (fail closed).
 */
export type PrebuildsAuthorization =
  { rolePermissions: Readonly<Record<string, readonly string[]>> } | { authorize: AuthorizeFunction };

/** One function whatever form the host chose. Unknown roles grant nothing; they do not throw. */
export function authorizerOf(authorization: PrebuildsAuthorization | null): AuthorizeFunction {
  if (authorization === null) return () => false;
  if ('authorize' in authorization) return authorization.authorize;
  const map = authorization.rolePermissions;
  return (subject, permission) =>
    subject.roles.some((role) => Object.hasOwn(map, role) && map[role].includes(permission));
}
