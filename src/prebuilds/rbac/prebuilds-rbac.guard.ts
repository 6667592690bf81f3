import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { Reflector } from '@nestjs/core';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { routeOf } from '../logging/request-route.js';
import type { AuthorizeFunction, Permission } from './permissions.js';
import { subjectOf } from './subject.js';

/** Metadata key under which `@RequirePermission` stores the route's permission. */
export const PREBUILDS_PERMISSION_KEY = 'prebuilds:required-permission';

/**
 * The host's authorization as one function (permissions.ts authorizerOf), provided by the module from its options:
 * the guard takes it rather than the options, so that rbac/ sits below them.
 */
export const PREBUILDS_AUTHORIZER = Symbol('PREBUILDS_AUTHORIZER');

/**
 * Authorises a route against the permission it declares, for the subject the host put on the request, by the
 * host's authorization option (a role map or a function). No subject → 401; a subject without the permission → 403,
 * logged so that denials are auditable.
 */
@Injectable()
export class PrebuildsRbacGuard implements CanActivate {
  private readonly logger = new PrebuildsLogger(PrebuildsRbacGuard.name);

  constructor(
    private readonly reflector: Reflector,
    @Inject(PREBUILDS_AUTHORIZER) private readonly authorize: AuthorizeFunction,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<object>();
    const subject = subjectOf(request);
    if (!subject) throw new PrebuildsException(PrebuildsErrorCode.Unauthenticated, 'authentication required');

    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PREBUILDS_PERMISSION_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    // A guarded route that declares no permission is a wiring mistake: deny rather than allow everyone.
    if (permission && (await this.authorize(subject, permission))) return true;

    this.logger.warn({
      msg: 'access denied',
      event: 'access_denied',
      subjectId: subject.id,
      permission: permission ?? null,
      route: routeOf(request),
    });
    throw new PrebuildsException(
      PrebuildsErrorCode.Forbidden,
      permission ? `permission ${permission} required` : 'this route declares no permission',
    );
  }
}
