import { describe } from "node:test";
import { useBackend } from "../../support/backends.ts";
import { basics } from "./basics.ts";
import { claimedAhead } from "./claimed-ahead.ts";
import { cronOverlap } from "./cron-overlap.ts";
import { dependencies } from "./dependencies.ts";
import { failures } from "./failures.ts";
import { leases } from "./leases.ts";
import { operations } from "./operations.ts";
import { queues } from "./queues.ts";
import { progress } from "./progress.ts";
import { snooze } from "./snooze.ts";
import { uniqueModes } from "./unique-modes.ts";
import { storedValues } from "./stored-values.ts";

/** The jobs conformance suite: every behaviour of the queue, proved against one real driver. */
export function describeJobsConformance(driver: "sqlite" | "postgres"): void {
  describe(`jobs conformance (${driver})`, () => {
    const ctx = useBackend(driver);
    describe("enqueue and run", () => basics(ctx));
    describe("failures", () => failures(ctx));
    describe("leases, stop and cancel", () => leases(ctx));
    describe("jobs claimed ahead when their worker dies", () => claimedAhead(ctx));
    describe("operations", () => operations(ctx));
    describe("queue pause and resume", () => queues(ctx));
    describe("what a job may carry", () => storedValues(ctx));
    describe("progress", () => progress(ctx));
    describe("snooze", () => snooze(ctx));
    describe("unique key modes: debounce and throttle", () => uniqueModes(ctx));
    describe("cron overlap and pause", () => cronOverlap(ctx));
    describe("dependencies: after, flows, cascades", () => dependencies(ctx));
  });
}
