import { randomUUID } from 'node:crypto';
import type { CapturedStatement } from './statement-log.js';

/** The claim's one statement among those a createWorkspace sent (ClaimRepository.claimStatement). */
export function findClaimStatement(statements: CapturedStatement[]): CapturedStatement {
  const claim = statements.find((s) => /FOR UPDATE OF c SKIP LOCKED/.test(s.query));
  if (!claim) throw new Error('the claim statement was not recorded');
  return claim;
}

/**
 * The recorded claim made runnable again for EXPLAIN ANALYZE: another workspace name, and fresh ids for the
 * workspace, build and job it writes ($5 and $7–$9 of the statement), which the recorded claim already used.
 */
export function repeatableClaim(claim: CapturedStatement, name: string): CapturedStatement {
  const parameters = [...claim.parameters];
  parameters[4] = name;
  for (const index of [6, 7, 8]) parameters[index] = randomUUID();
  return { ...claim, parameters };
}
