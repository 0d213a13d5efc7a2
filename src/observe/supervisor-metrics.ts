import type { Registry } from "prom-client";
import type { Supervisor } from "../supervise/index.ts";
import { registerCollected } from "./collected.ts";

const WORKER_STATES = ["starting", "ready", "stopping"] as const;

/**
 * The supervisor's own metrics for its master's `/metrics` (`tend supervise --http`):
 * `tend_supervisor_workers{state}`, `tend_supervisor_desired_workers`,
 * `tend_supervisor_restarts_total`, `tend_supervisor_hangs_total{problem=hung|stalled|start-timeout}`,
 * `tend_supervisor_scale_events_total{direction=up|down}`, `tend_supervisor_up` (0 once it gave up).
 *
 * @example
 * ```ts
 * registerSupervisorMetrics(registry, supervisor);
 * ```
 */
export function registerSupervisorMetrics(registry: Registry, supervisor: Supervisor): void {
  const killed = { hung: 0, stalled: 0, "start-timeout": 0 } as Record<string, number>;
  const scaled = { up: 0, down: 0 };
  supervisor.on("worker-killed", (_worker: unknown, problem: string) => {
    killed[problem] = (killed[problem] ?? 0) + 1;
  });
  supervisor.on("scaled", (from: number, to: number) => {
    if (to > from) scaled.up++;
    else if (to < from) scaled.down++;
  });
  registerCollected(registry, "tend_supervisor_workers", "Worker processes by state.", "gauge", () => {
    const workers = supervisor.status().workers;
    return WORKER_STATES.map((state) => ({
      labels: { state },
      value: workers.filter((w) => w.state === state).length,
    }));
  });
  registerCollected(
    registry,
    "tend_supervisor_desired_workers",
    "Workers the scaler wants now (between --min and --max).",
    "gauge",
    () => [{ labels: {}, value: supervisor.status().desired }],
  );
  registerCollected(
    registry,
    "tend_supervisor_restarts_total",
    "Workers restarted after they exited or were killed.",
    "counter",
    () => [{ labels: {}, value: supervisor.status().restartsTotal }],
  );
  registerCollected(
    registry,
    "tend_supervisor_hangs_total",
    "Workers killed for a problem: hung (no heartbeat), stalled (jobs in flight, no completion), start-timeout.",
    "counter",
    () => Object.entries(killed).map(([problem, value]) => ({ labels: { problem }, value })),
  );
  registerCollected(
    registry,
    "tend_supervisor_scale_events_total",
    "Scaling decisions, by direction.",
    "counter",
    () => [
      { labels: { direction: "up" }, value: scaled.up },
      { labels: { direction: "down" }, value: scaled.down },
    ],
  );
  registerCollected(
    registry,
    "tend_supervisor_up",
    "1 while the supervisor runs its workers; 0 once it gave up (restart intensity exceeded) or stopped.",
    "gauge",
    () => [{ labels: {}, value: supervisor.status().state === "running" ? 1 : 0 }],
  );
}
