import type { Clock } from '../ports/clock';
import type { DispatcherWake } from '../ports/dispatcher-wake';
import type { Ids } from '../ports/ids';
import type { MetadataStore } from '../ports/metadata-store';
import type { ObjectStore } from '../ports/object-store';
import type { CatalogMetrics } from './metric-catalog';
import type { Settings } from './settings';

/** What the core runs on: its ports and its settings. Nothing else reaches `lib/core`. */
export interface CoreContext {
  meta: MetadataStore;
  /** The object stores (failure domains); index entries name the ones holding each segment. */
  stores: readonly ObjectStore[];
  clock: Clock;
  ids: Ids;
  settings: Settings;
  /** Where counters and gauges go (lib/core/metric-catalog.ts names them); none: nothing is reported. */
  metrics?: CatalogMetrics;
  /** Where the core reports what an operator should hear of but no caller sees (a replica fallback); none: silent. */
  warnings?: Warnings;
  /**
   * Where push consumers are dispatched by runs started on demand (AWS): how a producer wakes one after a
   * commit (consumers/wake.ts). None: dispatchers run continuously in this process (the embedded server).
   */
  wake?: DispatcherWake;
}

/** Events worth a log line that do not fail the request that met them. */
export interface Warnings {
  warn(message: string, fields: Record<string, unknown>): void;
}
