/**
 * The bench's clock: `process.hrtime` is CLOCK_MONOTONIC, one clock for every process on the
 * machine, so a send time taken in one process and a start time taken in another can be subtracted.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
