import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Converger } from "../../src/converge/index.ts";
import { convergerRows } from "../../src/http/api/converger-routes.ts";
import { queueRows } from "../../src/http/api/queue-routes.ts";
import { mastersOf } from "../../src/http/api/worker-routes.ts";
import { bytes, duration, utcTime } from "../../src/http/ui/format.ts";
import { queuesPage } from "../../src/http/ui/pages-queues.ts";
import { healthGlance } from "../../src/http/ui/health-glance.ts";
import { emptyQueueStats, type ProcessRecord } from "../../src/store/index.ts";

const at = (iso: string) => new Date(iso);

function proc(p: Partial<ProcessRecord>): ProcessRecord {
  return {
    id: "w",
    host: "h",
    pid: 1,
    program: "app.js",
    version: "0.1.0",
    masterPid: null,
    restarts: null,
    queues: [],
    concurrency: 0,
    inFlight: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
    startedAt: at("2026-01-01T00:00:00Z"),
    heartbeatAt: at("2026-01-01T00:00:00Z"),
    expiresAt: at("2026-01-01T00:00:30Z"),
    alive: true,
    ...p,
  };
}

const NO_LIMITS = { concurrencyLimit: null, rateLimit: null };

describe("the operations pages' pure parts", () => {
  it("queueRows merges counts, pause, limits known here and live processes, by name", () => {
    const rows = queueRows(
      [
        {
          ...emptyQueueStats("mail"),
          available: 3,
          paused: true,
          changedAt: at("2026-01-01T00:00:00Z"),
          ...NO_LIMITS,
        },
        { ...emptyQueueStats("a-reports"), paused: false, changedAt: null, ...NO_LIMITS },
      ],
      [
        {
          queue: "mail",
          concurrency: 4,
          kinds: [{ kind: "mail.send", concurrencyLimit: null, rateLimit: { limit: 10, periodMs: 1000 } }],
        },
        { queue: "idle", concurrency: 2, kinds: [] },
      ],
      [
        { alive: true, queues: ["mail"] },
        { alive: false, queues: ["mail"] },
        { alive: true, queues: ["mail", "idle"] },
      ],
    );
    assert.deepEqual(
      rows.map((r) => [r.queue, r.paused, r.available, r.concurrencyHere, r.processes, r.limits.length]),
      [
        ["a-reports", false, 0, 0, 0, 0],
        ["idle", false, 0, 2, 1, 0],
        ["mail", true, 3, 4, 2, 1],
      ],
    );
    assert.equal(
      queueRows([{ ...emptyQueueStats("x"), paused: false, changedAt: null, ...NO_LIMITS }], null, [])[0]
        ?.concurrencyHere,
      null,
    );
  });

  it("convergerRows takes the leader from a live lease, the sweep and lag from a local leader only", () => {
    const local = {
      definition: { name: "here", everyMs: 30_000 },
      isLeader: () => true,
      metrics: () => ({ lastSweepAt: 1_000_000 }),
      backingOff: () => [{ key: "9", failures: 2, dueAt: 2_000_000 }],
    } as unknown as Converger;
    const rows = convergerRows(
      [
        {
          name: "here",
          holder: "me",
          epoch: 3,
          acquiredAt: at("2026-01-01T00:00:00Z"),
          expiresAt: at("2026-01-01T00:00:10Z"),
          live: true,
        },
        {
          name: "elsewhere",
          holder: "gone",
          epoch: 7,
          acquiredAt: at("2026-01-01T00:00:00Z"),
          expiresAt: at("2026-01-01T00:00:10Z"),
          live: false,
        },
      ],
      [
        { converger: "elsewhere", key: "1", version: null, message: "m", at: new Date(0) },
        { converger: "parked-only", key: "2", version: null, message: "m", at: new Date(0) },
      ],
      [local],
      1_000_000 + 45_000,
    );
    assert.deepEqual(
      rows.map((r) => [r.name, r.leader, r.epoch, r.here, r.leaderHere, r.lagMs, r.parked]),
      [
        ["elsewhere", null, 7, false, false, null, 1],
        ["here", "me", 3, true, true, 15_000, 0],
        ["parked-only", null, null, false, false, null, 1],
      ],
    );
    assert.deepEqual(rows[1]?.backingOff, [{ key: "9", failures: 2, dueAt: new Date(2_000_000) }]);
    assert.deepEqual(rows[0]?.backingOff, []);
  });

  it("mastersOf uses the fleet table when there is one, else groups workers by their master's pid", () => {
    const workers = [
      proc({ id: "a", host: "h1", pid: 11, masterPid: 10 }),
      proc({ id: "b", host: "h1", pid: 12, masterPid: 10, alive: false }),
      proc({ id: "c", host: "h2", pid: 21, masterPid: 10 }),
      proc({ id: "d", host: "h1", pid: 30 }),
    ];
    assert.deepEqual(
      mastersOf(workers, null).map((m) => [m.host, m.pid, m.alive, m.workers.map((w) => w.id)]),
      [
        ["h1", 10, true, ["a", "b"]],
        ["h2", 10, true, ["c"]],
      ],
    );
    const fleet = mastersOf(workers, [
      {
        id: "h1:10.1",
        host: "h1",
        pid: 10,
        program: "app.js",
        min: 1,
        max: 4,
        desired: 2,
        workers: [
          { id: "a", pid: 11, state: "ready", inFlight: 0, restarts: 2 },
          { id: "x", pid: 99, state: "starting", inFlight: 0 },
        ],
        startedAt: new Date(0),
        heartbeatAt: new Date(0),
        expiresAt: new Date(0),
        alive: false,
      },
    ]);
    assert.deepEqual(
      fleet.map((m) => [m.host, m.desired, m.alive, m.workers.length]),
      [["h1", 2, false, 2]],
    );
    // Restarts by worker pid, only where the master reported them.
    assert.deepEqual(fleet[0]!.restarts, { 11: 2 });
    assert.deepEqual(mastersOf(workers, null)[0]!.restarts, {});
  });

  it("formats times, durations and sizes", () => {
    assert.equal(utcTime(at("2026-01-01T10:00:03.100Z")), "2026-01-01 10:00:03Z");
    assert.equal(utcTime(null), "-");
    assert.deepEqual([850, 42_000, 185_000, 7_800_000, 273_600_000, 86_400_000].map(duration), [
      "850 ms",
      "42 s",
      "3 min 5 s",
      "2 h 10 min",
      "3 d 4 h",
      "1 d",
    ]);
    assert.deepEqual([512, 2048, 52_428_800].map(bytes), ["512 B", "2.0 KiB", "50.0 MiB"]);
  });

  it("the queues page shows an operator's queue limits, from the store, even where no kind is known", () => {
    const rows = queueRows(
      [
        {
          ...emptyQueueStats("mail"),
          paused: false,
          changedAt: null,
          concurrencyLimit: 3,
          rateLimit: { limit: 10, periodMs: 1_000 },
        },
      ],
      null,
      [],
    );
    const text = String(queuesPage(rows, { readOnly: true, limitsKnown: false }));
    assert.match(text, /queue: 3 at once/);
    assert.match(text, /queue: 10 per 1(\.0)? ?s/);
  });

  it("the overview's health at a glance marks a converger without a leader, parked keys, failed files and gone processes", () => {
    const converger = (name: string, leader: string | null, parked: number) => ({
      name,
      leader,
      epoch: 1,
      leaseExpiresAt: null,
      leaderSince: null,
      here: false,
      leaderHere: false,
      everyMs: null,
      lastSweepAt: null,
      lagMs: null,
      parked,
      backingOff: [],
    });
    const text = String(
      healthGlance({
        convergers: [converger("billing", "w1", 0), converger("accounts", null, 2)],
        inbox: { visible: false, inboxes: [] },
        workers: [proc({ id: "a" }), proc({ id: "b", alive: false })],
        masters: [],
      }),
    );
    const glance = (name: string) =>
      new RegExp(`data-glance="${name}">([\\s\\S]*?)</section>`).exec(text)?.[1] ?? "";
    assert.match(glance("convergers"), /class="state-discarded">\s*1 of 2 without a leader/);
    assert.match(glance("convergers"), /class="state-discarded">\s*2 parked key\(s\)/);
    assert.match(glance("inbox"), /visible from the app(&#39;|&#x27;|')s own dashboard/);
    assert.match(glance("workers"), /class="state-completed">\s*1 alive/);
    assert.match(glance("workers"), /class="state-discarded">\s*1 gone \(no heartbeat\)/);
    const calm = String(
      healthGlance({
        convergers: [converger("billing", "w1", 0)],
        inbox: { visible: true, inboxes: [] },
        workers: [proc({ id: "a" })],
        masters: [],
      }),
    );
    assert.doesNotMatch(calm, /state-discarded/, "nothing drawn as a failure when all is well");
  });
});
