/**
 * The host app has one organization. The module stores organization ids as the host's opaque text, so a control
 * plane with real organizations passes its own ids instead.
 */
export const DEFAULT_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000001';
