import type { Registry } from "prom-client";
import { type Converger, lastSweepAgeMs } from "../converge/index.ts";
import { promClient } from "./prom.ts";

/**
 * The converger families, read from each converger's own counters at scrape time (label:
 * `converger`, the definition's name): `tend_converger_sweeps_total`,
 * `tend_converger_find_errors_total`, `tend_converger_invalid_keys_total`,
 * `tend_converger_runs_total{result=changed|unchanged|error}`,
 * `tend_converger_inconsistencies_total`, `tend_converger_inconsistencies_lost_total`,
 * `tend_converger_errors_total`, `tend_converger_timeouts_total` (`converge` and `find`),
 * `tend_converger_leases_lost_total`, `tend_converger_leader`, `tend_converger_parked_keys` and
 * `tend_converger_last_sweep_age_seconds` (leader only; counted from when this process first led
 * the converger while no sweep has succeeded, so that it grows while `find` keeps failing).
 *
 * @example
 * ```ts
 * registerConvergerMetrics(registry, () => convergers.all());
 * ```
 */
export function registerConvergerMetrics(registry: Registry, convergers: () => readonly Converger[]): void {
  const { Counter, Gauge } = promClient();
  const registers = [registry];
  const labelNames = ["converger"] as const;
  const counter = (
    name: string,
    help: string,
    pick: (m: ReturnType<Converger["metrics"]>) => number,
  ): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const c of convergers()) this.inc({ converger: c.definition.name }, pick(c.metrics()));
      },
    });
  };
  counter("tend_converger_sweeps_total", "Sweeps (find calls) started by this process.", (m) => m.sweeps);
  counter("tend_converger_find_errors_total", "Sweeps whose find failed.", (m) => m.findErrors);
  counter(
    "tend_converger_invalid_keys_total",
    "Items find returned that are not valid keys (too long, empty, U+0000, not a key): each skipped and logged.",
    (m) => m.invalidKeys,
  );
  counter(
    "tend_converger_inconsistencies_total",
    "Inconsistencies recorded: keys converged that changed something, whose record was stored.",
    (m) => m.changes,
  );
  counter(
    "tend_converger_inconsistencies_lost_total",
    "Changes made whose inconsistency record could not be stored (the write kept failing): lost records.",
    (m) => m.recordsLost,
  );
  counter(
    "tend_converger_errors_total",
    "converge calls that failed (terminal ones and timeouts included).",
    (m) => m.errors,
  );
  counter(
    "tend_converger_timeouts_total",
    "converge and find calls that ran past their timeout.",
    (m) => m.timeouts,
  );
  counter("tend_converger_leases_lost_total", "Leader leases this process lost.", (m) => m.leasesLost);
  new Counter({
    name: "tend_converger_runs_total",
    help: "converge calls (keys converged) by result: changed, unchanged, error (a change returned after the timeout counts as error).",
    labelNames: ["converger", "result"] as const,
    registers,
    collect() {
      this.reset();
      for (const c of convergers()) {
        const m = c.metrics();
        this.inc({ converger: c.definition.name, result: "changed" }, m.changes - m.lateChanges);
        this.inc({ converger: c.definition.name, result: "unchanged" }, m.unchanged);
        this.inc({ converger: c.definition.name, result: "error" }, m.errors);
      }
    },
  });
  new Gauge({
    name: "tend_converger_leader",
    help: "1 when this process leads the converger, else 0.",
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const c of convergers()) this.set({ converger: c.definition.name }, c.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: "tend_converger_parked_keys",
    help: "Keys parked after a terminal failure, as seen by this process's current term.",
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const c of convergers())
        if (c.isLeader()) this.set({ converger: c.definition.name }, c.metrics().parked);
    },
  });
  new Gauge({
    name: "tend_converger_last_sweep_age_seconds",
    help: "Seconds since the last complete sweep (or, before the first, since this process first led the converger), reported by the leader only.",
    labelNames,
    registers,
    collect() {
      this.reset();
      const now = Date.now();
      for (const c of convergers()) {
        const m = c.metrics();
        const ageMs = lastSweepAgeMs(m, now);
        if (m.leader && ageMs !== null) this.set({ converger: c.definition.name }, ageMs / 1000);
      }
    },
  });
}
