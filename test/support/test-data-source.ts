import type { DataSourceOptions } from 'typeorm';
import {
  hostDataSourceOptions,
  type HostDataSourceOverrides,
} from '../../src/host/database/host-data-source.js';

/**
 * A DataSource for tests, as the host app configures its own: no entities, the host's migrations. The module's
 * statements name their schema, so the same DataSource serves both, as it does in a host.
 */
export function testDataSourceOptions(
  url: string,
  overrides: HostDataSourceOverrides = {},
): DataSourceOptions {
  return hostDataSourceOptions(url, overrides);
}
