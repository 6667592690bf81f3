import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/** Who is calling, as the host authenticated them. The module only reads it; it never authenticates. */
export interface PrebuildsSubject {
  id: string;
  username: string;
  roles: string[];
}

/** The request property the host's authentication sets: `request.subject`. */
export const PREBUILDS_SUBJECT_PROPERTY = 'subject';

type RequestLike = Record<string, unknown>;

/**
 * The subject on a request, or undefined. The shape is checked because a host could put something else on the same
 * property; a malformed subject must read as "not authenticated", never as a crash or a partial grant.
 */
export function subjectOf(request: object): PrebuildsSubject | undefined {
  const value = (request as RequestLike)[PREBUILDS_SUBJECT_PROPERTY];
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, username, roles } = value as Partial<PrebuildsSubject>;
  if (typeof id !== 'string' || typeof username !== 'string') return undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return undefined;
  return { id, username, roles };
}

/** For the host's authentication (and tests): sets the subject the guard will read. */
export function attachSubject(request: object, subject: PrebuildsSubject): void {
  (request as RequestLike)[PREBUILDS_SUBJECT_PROPERTY] = subject;
}

/**
 * The authenticated subject as a handler parameter. Throws 401 when there is none, so a handler that asks for it can
 * rely on it even on a route someone forgot to guard.
 */
export const CurrentSubject = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const subject = subjectOf(context.switchToHttp().getRequest<object>());
  if (!subject) throw new PrebuildsException(PrebuildsErrorCode.Unauthenticated, 'authentication required');
  return subject;
});
