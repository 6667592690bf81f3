import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Permission } from './permissions.js';
import { PREBUILDS_PERMISSION_KEY, PrebuildsRbacGuard } from './prebuilds-rbac.guard.js';

/**
 * Declares the permission a route needs and enforces it: one decorator, so that a route cannot declare a permission
 * without the guard, and the OpenAPI document shows the permission next to the route.
 */
export function RequirePermission(permission: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PREBUILDS_PERMISSION_KEY, permission),
    UseGuards(PrebuildsRbacGuard),
    ApiBearerAuth(),
    ApiExtension('x-required-permission', permission),
    ApiUnauthorizedResponse({ description: 'no authenticated subject (code UNAUTHENTICATED)' }),
    ApiForbiddenResponse({ description: `the subject lacks permission \`${permission}\` (code FORBIDDEN)` }),
  );
}
