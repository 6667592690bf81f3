import { Injectable } from '@nestjs/common';
import { ClaimPool } from '../database/claim-pool.js';
import { type ClaimableTemplate, ClaimRepository } from '../database/claim.repository.js';

/** Templates kept; a host with more active templates than this re-reads the least recently cached ones. */
const MAX_TEMPLATES = 1_000;

/**
 * What a claim needs to know of a template before its statement runs: the active version, its parameter
 * definitions (to check the request's values) and its presets (to match a request without a preset). A version's
 * definitions and presets never change once published, so only the active version can go stale, and the claim
 * statement checks that one itself (it writes nothing when the version it was given is no longer active; the
 * caller then forgets the entry and tries again).
 */
@Injectable()
export class ClaimableTemplateCache {
  private readonly templates = new Map<string, ClaimableTemplate>();

  constructor(
    private readonly pool: ClaimPool,
    private readonly claims: ClaimRepository,
  ) {}

  /** The template, read from the database when not cached; null when it does not exist. */
  async get(templateId: string): Promise<ClaimableTemplate | null> {
    const cached = this.templates.get(templateId);
    if (cached) return cached;
    const [row] = await this.pool.query<ClaimableTemplate>(
      this.claims.claimableTemplateStatement(templateId),
    );
    // A template that cannot be claimed from is not kept: it may get an active version any moment.
    if (!row || row.deleted || !row.activeVersionId) return row ?? null;
    if (this.templates.size >= MAX_TEMPLATES) {
      const oldest = this.templates.keys().next().value;
      if (oldest !== undefined) this.templates.delete(oldest);
    }
    this.templates.set(templateId, row);
    return row;
  }

  forget(templateId: string): void {
    this.templates.delete(templateId);
  }
}
