import type { Migration } from 'kysely';
import * as m0001 from './0001-initial.ts';
import * as m0002 from './0002-search-and-metrics.ts';
import * as m0003 from './0003-settings-and-rollups.ts';
import * as m0004 from './0004-console.ts';
import * as m0005 from './0005-isolation.ts';
import * as m0006 from './0006-incidents.ts';
import * as m0007 from './0007-incident-review.ts';
import * as m0008 from './0008-host-tasks.ts';
import * as m0009 from './0009-host-capacity.ts';
import * as m0010 from './0010-findings-insertion-order.ts';

/**
 * Every migration, applied in name order (../migrator.ts). Listed statically,
 * not read from a folder, so that the bundled CLI carries them.
 * Forward-only: add a file, never edit one that has been released.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': m0001,
  '0002-search-and-metrics': m0002,
  '0003-settings-and-rollups': m0003,
  '0004-console': m0004,
  '0005-isolation': m0005,
  '0006-incidents': m0006,
  '0007-incident-review': m0007,
  '0008-host-tasks': m0008,
  '0009-host-capacity': m0009,
  '0010-findings-insertion-order': m0010,
};
