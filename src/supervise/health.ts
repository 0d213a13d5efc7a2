/** What the master knows about one worker's progress. */
export interface ProgressView {
  state: "starting" | "ready" | "stopping";
  startedAt: number;
  /** ms epoch of the last heartbeat (or of the ready message); null before any. */
  lastHeartbeatAt: number | null;
  inFlight: number;
  lastCompletionAt: number | null;
  /** When in-flight last went from 0 to more than 0 (null while idle). */
  busySince: number | null;
}

/** Timeouts of the progress watch. */
export interface HealthLimits {
  startTimeoutMs: number;
  hangTimeoutMs: number;
  stallTimeoutMs: number;
}

/** The progress watch's verdict on one worker. */
export type HealthVerdict =
  { ok: true } | { ok: false; problem: "start-timeout" | "hung" | "stalled"; reason: string };

/**
 * Judges one worker (a pure function): not ready within the start timeout; no heartbeat for the
 * hang timeout (its event loop is blocked); or jobs in flight with no completion for the stall
 * timeout. A stopping worker is not judged at all: the master is stopping it on purpose, and its
 * kill timeout bounds the stop (SIGTERM, then SIGKILL); its drain may outlast the hang timeout.
 *
 * @example
 * ```ts
 * const v = judgeWorker(view, Date.now(), { startTimeoutMs: 30_000, hangTimeoutMs: 10_000, stallTimeoutMs: 300_000 });
 * if (!v.ok) killAndReplace(v.reason);
 * ```
 */
export function judgeWorker(view: ProgressView, now: number, limits: HealthLimits): HealthVerdict {
  if (view.state === "starting") {
    const waited = now - view.startedAt;
    if (waited > limits.startTimeoutMs) {
      return {
        ok: false,
        problem: "start-timeout",
        reason: `not ready after ${waited} ms (start timeout ${limits.startTimeoutMs} ms)`,
      };
    }
    return { ok: true };
  }
  if (view.state === "stopping") return { ok: true };
  const lastBeat = view.lastHeartbeatAt ?? view.startedAt;
  const silent = now - lastBeat;
  if (silent > limits.hangTimeoutMs) {
    return {
      ok: false,
      problem: "hung",
      reason: `no heartbeat for ${silent} ms (hang timeout ${limits.hangTimeoutMs} ms): its event loop is blocked`,
    };
  }
  if (view.inFlight > 0 && view.busySince !== null) {
    const since = Math.max(view.busySince, view.lastCompletionAt ?? Number.NEGATIVE_INFINITY);
    const idle = now - since;
    if (idle > limits.stallTimeoutMs) {
      return {
        ok: false,
        problem: "stalled",
        reason: `${view.inFlight} job(s) in flight and no completion for ${idle} ms (stall timeout ${limits.stallTimeoutMs} ms)`,
      };
    }
  }
  return { ok: true };
}
