import { describe, expect, it } from '@jest/globals';
import { type Permission, PERMISSIONS, permissionsOf, ROLE_PERMISSIONS, ROLES } from './roles.js';

// DESIGN.md's roles table, written out again on purpose: the test must fail if the code's table drifts from it.
const DESIGN_ROLES: Record<string, Permission[] | 'everything'> = {
  owner: 'everything',
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

const ALL_PERMISSIONS: Permission[] = [
  'templates:read',
  'templates:update',
  'prebuilds:read',
  'prebuilds:reconcile',
  'prebuilds:admin',
  'workspaces:create',
  'workspaces:read',
  'users:create',
  'provisioners:admin',
];

describe('ROLE_PERMISSIONS', () => {
  it('knows exactly the roles and permissions of DESIGN.md', () => {
    expect([...ROLES].sort()).toEqual(Object.keys(DESIGN_ROLES).sort());
    expect([...PERMISSIONS].sort()).toEqual([...ALL_PERMISSIONS].sort());
  });

  const cases = Object.entries(DESIGN_ROLES).flatMap(([role, granted]) =>
    ALL_PERMISSIONS.map((permission) => ({
      role,
      permission,
      allowed: granted === 'everything' || granted.includes(permission),
    })),
  );

  it.each(cases)('$role → $permission: $allowed', ({ role, permission, allowed }) => {
    expect(permissionsOf([role]).has(permission)).toBe(allowed);
  });

  it('has no duplicate entries', () => {
    for (const permissions of Object.values(ROLE_PERMISSIONS)) {
      expect(new Set(permissions).size).toBe(permissions.length);
    }
  });
});

describe('permissionsOf', () => {
  it('unites the permissions of several roles', () => {
    expect([...permissionsOf(['auditor', 'member'])].sort()).toEqual(
      ['prebuilds:read', 'templates:read', 'workspaces:create', 'workspaces:read'].sort(),
    );
  });

  it('grants nothing for unknown roles or none', () => {
    expect(permissionsOf([]).size).toBe(0);
    expect(permissionsOf(['root', 'Owner', '']).size).toBe(0);
  });
});
