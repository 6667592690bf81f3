import { describe, expect, it, jest, beforeEach } from '@jest/globals';
import { type ExecutionContext, Logger, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
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

function codeOf(run: () => unknown): PrebuildsErrorCode | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof PrebuildsException) return error.code;
    throw error;
  }
  return undefined;
}

describe('PrebuildsRbacGuard', () => {
  const guard = new PrebuildsRbacGuard(new Reflector());
  let warn: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
  });

  it('answers 401 without a subject', () => {
    expect(codeOf(() => guard.canActivate(contextFor('reconcile', request())))).toBe(
      PrebuildsErrorCode.Unauthenticated,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('treats a malformed subject as none', () => {
    const malformed = { id: 'u1', username: 'x', roles: 'owner' };
    expect(codeOf(() => guard.canActivate(contextFor('reconcile', request(malformed))))).toBe(
      PrebuildsErrorCode.Unauthenticated,
    );
  });

  it('answers 403 naming the permission, and logs the denial', () => {
    const subject = { id: 'u-auditor', username: 'audrey', roles: ['auditor'] };
    let thrown: unknown;
    try {
      guard.canActivate(contextFor('reconcile', request(subject)));
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

  it('allows a subject whose roles grant the permission', () => {
    const subject = { id: 'u-ta', username: 'tina', roles: ['member', 'template-admin'] };
    expect(guard.canActivate(contextFor('reconcile', request(subject)))).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('denies everyone, owners included, on a guarded route that declares no permission', () => {
    const subject = { id: 'u-owner', username: 'olga', roles: ['owner'] };
    expect(codeOf(() => guard.canActivate(contextFor('undeclared', request(subject))))).toBe(
      PrebuildsErrorCode.Forbidden,
    );
  });
});
