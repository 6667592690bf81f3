import { describe, expect, it } from '@jest/globals';
import { workspaceAccess } from './workspace-access.js';

const actor = (id: string, ...roles: string[]) => ({ id, roles });

describe('workspaceAccess', () => {
  it.each([
    { roles: ['member'], read: false, manage: false, exempt: false },
    { roles: ['auditor'], read: true, manage: false, exempt: false },
    { roles: ['template-admin'], read: true, manage: false, exempt: false },
    { roles: ['owner'], read: true, manage: true, exempt: true },
    { roles: ['member', 'owner'], read: true, manage: true, exempt: true },
    { roles: ['Owner', 'root'], read: false, manage: false, exempt: false },
  ])("$roles on someone else's workspace: read $read, manage $manage", ({ roles, read, manage, exempt }) => {
    const asker = actor('1', ...roles);
    expect(workspaceAccess.mayRead(asker, '2')).toBe(read);
    expect(workspaceAccess.mayManage(asker, '2')).toBe(manage);
    expect(workspaceAccess.isQuotaExempt(asker)).toBe(exempt);
  });

  it('lets anyone read and manage their own workspace, whatever their roles', () => {
    for (const asker of [actor('7'), actor('7', 'member'), actor('7', 'auditor')]) {
      expect(workspaceAccess.mayRead(asker, '7')).toBe(true);
      expect(workspaceAccess.mayManage(asker, '7')).toBe(true);
    }
  });
});
