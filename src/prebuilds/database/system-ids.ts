/**
 * Fixed identities created by the first migration. The prebuilds system user owns every unclaimed prebuild;
 * its id is a constant so that SQL can filter on it without a lookup (and partial indexes can name it).
 */
export const PREBUILDS_SYSTEM_USER_ID = 'c42fdf75-3097-471c-8c33-fb52454d81c0';
export const PREBUILDS_SYSTEM_USERNAME = 'prebuilds';
/** The organization every template belongs to unless the host says otherwise. */
export const DEFAULT_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000001';
