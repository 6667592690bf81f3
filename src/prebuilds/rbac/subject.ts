import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/** Who is calling, as the host authenticated them. The module only reads it; it never authenticates. */
export interface PrebuildsSubjectInput {
  /** The host's id for the caller (opaque text): owner of the workspaces it claims, initiator of its builds. */
  id: string;
  /** For logs only; the id when the host has no names. */
  username?: string;
  /** The host's role names, read by a `rolePermissions` authorization (default none). */
  roles?: string[];
}

/** A subject as the module hands it to handlers and to the host's authorize function: every field present. */
export type PrebuildsSubject = Required<PrebuildsSubjectInput>;

/** The request property the host's authentication sets: `request.subject`. */
export const PREBUILDS_SUBJECT_PROPERTY = 'subject';

type RequestLike = Record<string, unknown>;

/**
 * The subject on a request, or undefined. The shape is checked because a host could put something else on the same
 * property; a malformed subject must read as "not authenticated", never as a crash or a partial grant. Under Fastify,
 * Nest middleware gets Node's request, which guards and handlers see as the Fastify request's `raw`: a subject a
 * middleware attached is found there.
 */
export function subjectOf(request: object): PrebuildsSubject | undefined {
  const value =
    (request as RequestLike)[PREBUILDS_SUBJECT_PROPERTY] ??
    ((request as RequestLike).raw as RequestLike | undefined)?.[PREBUILDS_SUBJECT_PROPERTY];
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, username = id, roles = [] } = value as Partial<PrebuildsSubjectInput>;
  if (typeof id !== 'string' || id === '' || typeof username !== 'string') return undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return undefined;
  return { id, username, roles };
}

/** For the host's authentication (and tests): sets the subject the guard will read. */
export function attachSubject(request: object, subject: PrebuildsSubjectInput): void {
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
