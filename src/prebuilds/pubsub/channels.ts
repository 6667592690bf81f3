/**
 * LISTEN/NOTIFY channels. Every message is a wake-up hint only: a lost one delays work until the next interval or
 * poll, and never changes an outcome.
 */
export enum PrebuildsChannel {
  /** A provisioner job was written: provisioner daemons wake up. Payload: JobPostedMessage. */
  JobPosted = 'prebuilds_job_posted',
  /** A job finished (or was canceled): the reconciler looks at that template again. Payload: TemplateMessage. */
  JobCompleted = 'prebuilds_job_completed',
  /** A template, version or preset changed: the reconciler looks at that template again. Payload: TemplateMessage. */
  TemplateChanged = 'prebuilds_template_changed',
  /** A prebuild was claimed: the reconciler refills that template's pool at once. Payload: TemplateMessage. */
  WorkspaceClaimed = 'prebuilds_workspace_claimed',
}

export interface JobPostedMessage {
  jobId: string;
}

export interface TemplateMessage {
  templateId: string;
  presetId?: string | null;
}
