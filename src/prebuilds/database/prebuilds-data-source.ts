import { Inject } from '@nestjs/common';

/** The host's DataSource the module queries (the default one, or the one named by the `dataSource` extra). */
export const PREBUILDS_DATA_SOURCE = Symbol('PREBUILDS_DATA_SOURCE');

/** Injects the module's DataSource; use it instead of `@InjectPrebuildsDataSource()`, which always means the default one. */
export const InjectPrebuildsDataSource = (): ParameterDecorator => Inject(PREBUILDS_DATA_SOURCE);
