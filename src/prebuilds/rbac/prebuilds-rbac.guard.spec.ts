import { describe, expect, it, jest, beforeEach } from '@jest/globals';
import { type ExecutionContext, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { authorizerOf, type PrebuildsAuthorization } from './permissions.js';
import { PrebuildsRbacGuard } from './prebuilds-rbac.guard.js';
import { RequirePermission } from './require-permission.decorator.js';

class FakeController {
  @RequirePermission('prebuilds:reconcile')
  reconcile(): void {}

  @UseGuards(PrebuildsRbacGuard)
  undeclared(): void {}
}

function contextFor(handler: keyof FakeController, request: object): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}), getNext: () => () => {} }),
    getHandler: () => FakeController.prototype[handler],
    getClass: () => FakeController,
  } as unknown as ExecutionContext;
}

function request(subject?: unknown): object {
  return {
    method: 'POST',
    url: '/api/v2/prebuilds/reconcile?x=1',
    route: { path: '/api/v2/prebuilds/reconcile' },
    subject,
  };
}

async function codeOf(run: () => Promise<unknown>): Promise<PrebuildsErrorCode | undefined> {
  try {
    await run();
  } catch (error) {
    if (error instanceof PrebuildsException) return error.code;
    throw error;
  }
  return undefined;
}

const ROLE_MAP = {
  owner: ['prebuilds:read', 'prebuilds:reconcile', 'prebuilds:admin', 'templates:update'],
  'template-admin': ['prebuilds:read', 'prebuilds:reconcile', 'templates:update'],
  auditor: ['prebuilds:read'],
};

function guardWith(authorization: PrebuildsAuthorization | null): PrebuildsRbacGuard {
  return new PrebuildsRbacGuard(new Reflector(), authorizerOf(authorization));
}

describe('PrebuildsRbacGuard', () => {
  const guard = guardWith({ rolePermissions: ROLE_MAP });
  let warn: jest.Spied<PrebuildsLogger['warn']>;

  beforeEach(() => {
    warn = jest.spyOn(PrebuildsLogger.prototype, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
  });

  it('answers 401 without a subject', async () => {
    expect(await codeOf(() => guard.canActivate(contextFor('reconcile', request())))).toBe(
      PrebuildsErrorCode.Unauthenticated,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('treats a malformed subject as none', async () => {
    const malformed = { id: 'u1', username: 'x', roles: 'owner' };
    expect(await codeOf(() => guard.canActivate(contextFor('reconcile', request(malformed))))).toBe(
      PrebuildsErrorCode.Unauthenticated,
    );
  });

  it('answers 403 naming the permission, and logs the denial', async () => {
    const subject = { id: 'u-auditor', username: 'audrey', roles: ['auditor'] };
    let thrown: unknown;
    try {
      await guard.canActivate(contextFor('reconcile', request(subject)));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PrebuildsException);
    expect((thrown as PrebuildsException).code).toBe(PrebuildsErrorCode.Forbidden);
    expect((thrown as PrebuildsException).message).toContain('prebuilds:reconcile');
    expect(warn).toHaveBeenCalledWith({
      msg: 'access denied',
      event: 'access_denied',
      subjectId: 'u-auditor',
      permission: 'prebuilds:reconcile',
      route: 'POST /api/v2/prebuilds/reconcile',
    });
  });

  it('allows a subject whose roles grant the permission', async () => {
    const subject = { id: 'u-ta', username: 'tina', roles: ['member', 'template-admin'] };
    expect(await guard.canActivate(contextFor('reconcile', request(subject)))).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('accepts a subject with only an id (roles default to none) and denies it under a role map', async () => {
    expect(await codeOf(() => guard.canActivate(contextFor('reconcile', request({ id: '2' }))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
  });

  it("asks the host's authorize function, with the subject and the route's permission", async () => {
    const asked: [string, string][] = [];
    const byFunction = guardWith({
      authorize: async (subject, permission) => {
        asked.push([subject.id, permission]);
        return subject.id === '2';
      },
    });
    expect(await byFunction.canActivate(contextFor('reconcile', request({ id: '2' })))).toBe(true);
    expect(await codeOf(() => byFunction.canActivate(contextFor('reconcile', request({ id: '3' }))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
    expect(asked).toEqual([
      ['2', 'prebuilds:reconcile'],
      ['3', 'prebuilds:reconcile'],
    ]);
  });

  it('denies everything when the host configured no authorization (fail closed)', async () => {
    const subject = { id: 'u-owner', username: 'olga', roles: ['owner'] };
    expect(await codeOf(() => guardWith(null).canActivate(contextFor('reconcile', request(subject))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
  });

  it('does not read inherited properties of the role map as roles', async () => {
    const subject = { id: 'u1', roles: ['constructor', 'toString'] };
    expect(await codeOf(() => guard.canActivate(contextFor('reconcile', request(subject))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
  });

  it('denies everyone, owners included, on a guarded route that declares no permission', async () => {
    const subject = { id: 'u-owner', username: 'olga', roles: ['owner'] };
    expect(await codeOf(() => guard.canActivate(contextFor('undeclared', request(subject))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
  });
});
