import type { JobRecord } from "../../store/index.ts";

/** A job as the admin API and dashboard show it. */
export type JobView = Omit<JobRecord, "leaseToken"> & { payloadHidden?: true };

/**
 * Pure: a job as the admin API returns and the dashboard renders it: never its lease token (the
 * running attempt's fence), and with `hidePayloads` none of what the application derived from its
 * data: payload, result and progress (`null`), unique and concurrency keys (`null` when set), and
 * `payloadHidden: true`.
 *
 * @example
 * ```ts
 * jobView(job, true); // { id: "42", kind: "...", payload: null, result: null, payloadHidden: true, ... }
 * ```
 */
export function jobView(job: JobRecord, hidePayloads: boolean): JobView {
  const { leaseToken: _lease, ...rest } = job;
  if (!hidePayloads) return rest;
  return {
    ...rest,
    payload: null,
    result: null,
    progress: null,
    uniqueKey: null,
    ...(rest.concurrencyKey === undefined ? {} : { concurrencyKey: null }),
    payloadHidden: true,
  };
}
