/**
 * LISTEN/NOTIFY channels, by logical name; on PostgreSQL each is prefixed with the module's schema
 * (PrebuildsNamespace.channel), so that two modules in one database never wake each other. Every message is a
 * wake-up hint only: a lost one delays work until the next interval or poll, and never changes an outcome.
 */
export enum PrebuildsChannel {
  /** A provisioner job was written: provisioner daemons wake up. Payload: JobPostedMessage. */
  JobPosted = 'job_posted',
  /** A job finished (or was canceled): the reconciler looks at that template again. Payload: TemplateMessage. */
  JobCompleted = 'job_completed',
  /** A template, version or preset changed: the reconciler looks at that template again. Payload: TemplateMessage. */
  TemplateChanged = 'template_changed',
  /** A prebuild was claimed: the reconciler refills that template's pool at once. Payload: TemplateMessage. */
  WorkspaceClaimed = 'workspace_claimed',
}

export interface JobPostedMessage {
  jobId: string;
}

export interface TemplateMessage {
  templateId: string;
  presetId?: string | null;
}
