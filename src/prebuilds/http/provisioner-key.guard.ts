import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import {
  type AuthenticatedProvisionerKey,
  ProvisionerKeyService,
} from '../provisioner/provisioner-key.service.js';

/** The header a provisioner daemon sends its key in. */
export const PROVISIONER_KEY_HEADER = 'Prebuilds-Provisioner-Key';

const KEY_PROPERTY = 'prebuildsProvisionerKey';

interface KeyedRequest {
  headers: Record<string, string | string[] | undefined>;
  [KEY_PROPERTY]?: AuthenticatedProvisionerKey;
}

/**
 * Authenticates the job API by provisioner key, not by the host's users: a missing, malformed, unknown or revoked
 * key is a 401 PROVISIONER_KEY_INVALID. The key is looked up in the database on every call (no cache), so a revoked
 * key fails on every replica from the next call on. A host's authentication middleware that only attaches a subject
 * when it can (as this repository's does) lets these routes through to this guard.
 */
@Injectable()
export class ProvisionerKeyGuard implements CanActivate {
  constructor(private readonly keys: ProvisionerKeyService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    request[KEY_PROPERTY] = await this.keys.authenticate(
      request.headers[PROVISIONER_KEY_HEADER.toLowerCase()],
    );
    return true;
  }
}

/** The key ProvisionerKeyGuard authenticated, as a handler parameter. */
export const CurrentProvisionerKey = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const key = context.switchToHttp().getRequest<KeyedRequest>()[KEY_PROPERTY];
  if (!key) {
    throw new PrebuildsException(
      PrebuildsErrorCode.ProvisionerKeyInvalid,
      `header ${PROVISIONER_KEY_HEADER} required`,
    );
  }
  return key;
});
