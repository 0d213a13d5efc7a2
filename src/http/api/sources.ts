import type { Converger } from "../../converge/index.ts";
import type { Inbox } from "../../inbox/index.ts";
import type { QueueLimits } from "../../jobs/index.ts";
import type { InsertResult, Store } from "../../store/index.ts";

/** What the admin API reads and acts on: the app's store and parts, behind plain functions. */
export interface AdminSources {
  store: Store;
  /** Enqueues with the app's own validation (kind options, payload schema, limits). */
  enqueue(kind: string, payload: unknown, options: Record<string, unknown>): Promise<InsertResult>;
  /** The convergers defined in this process (empty when none, or not started yet). */
  convergers(): Converger[];
  /** The admin token (null: read-only). */
  adminToken: string | null;
  /** Never render nor return jobs' payloads and results. */
  hidePayloads: boolean;
  /** How many ids a filtered jobs page searches at most (default SCAN_WINDOW, 20,000). */
  listWindow?: number;
  /** The queues' limits as this process knows them (absent in `tend dashboard`: none known). */
  queueLimits?(): QueueLimits[];
  /**
   * Enqueues a cron schedule's job now, as this process defines it; null when it defines no
   * schedule of that name (absent in `tend dashboard`).
   */
  runCronNow?(name: string): Promise<InsertResult | null>;
  /** The inboxes of this process (absent in `tend dashboard`: inbox state lives in folders). */
  inboxes?(): readonly Inbox[];
  /** How often the event stream (`/api/events`) reads the store (ms; default 1000). */
  eventIntervalMs?: number;
}
