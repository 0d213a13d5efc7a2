import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { addAdminApi, type AdminSources, Router } from "../../src/http/index.ts";
import type { Store } from "../../src/store/index.ts";
import { type Backend, createBackend } from "../support/backends.ts";

/** Rejects after `ms`: a bound on a wait for an event that a bug would never send. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** One request; resolves with the status, headers and first body bytes (or the whole body). */
function ask(
  base: string,
  path: string,
  method: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; first: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { connection: "close" } }, (res) => {
      let first = "";
      res.once("data", (c: Buffer) => {
        first = c.toString("utf8");
        res.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, first });
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, first }));
      res.on("error", () => {});
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HEAD /api/events (a real server and store)", () => {
  let backend: Backend | null;
  let store: Store;
  let base: string;
  let close: () => Promise<void>;
  /** Each request's handling, settled once its handler has returned. */
  const handled: Promise<void>[] = [];
  const failures: unknown[] = [];

  before(async () => {
    backend = await createBackend("sqlite");
    store = await backend!.open();
    const sources: AdminSources = {
      store,
      enqueue: () => Promise.reject(new Error("not used")),
      convergers: () => [],
      adminToken: null,
      hidePayloads: false,
      eventIntervalMs: 20,
    };
    const router = addAdminApi(new Router(), sources);
    const server = createServer((req, res) => {
      handled.push(router.handle(req, res, (err) => failures.push(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      router.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
  });
  after(async () => {
    await close?.();
    await backend?.cleanup();
  });

  it("answers the stream's headers and ends: its handler returns, no loop keeps reading", async () => {
    const head = await within(ask(base, "/api/events", "HEAD"), 3000, "HEAD /api/events");
    assert.equal(head.status, 200);
    assert.match(String(head.headers["content-type"]), /^text\/event-stream/);
    assert.equal(head.first, "");
    await within(Promise.all(handled.splice(0)), 2000, "the HEAD handler to return");

    const bad = await within(ask(base, "/api/events?job=abc", "HEAD"), 3000, "HEAD with a bad job id");
    assert.equal(bad.status, 400);
    await within(Promise.all(handled.splice(0)), 2000, "the bad HEAD handler to return");
    assert.deepEqual(failures, []);
  });

  it("GET still streams (until the client leaves)", async () => {
    const get = await within(ask(base, "/api/events", "GET"), 3000, "GET /api/events");
    assert.equal(get.status, 200);
    assert.match(get.first, /^retry: 1000\n\n/);
    // The client left: the stream's loop ends and its handler returns.
    await within(Promise.all(handled.splice(0)), 3000, "the GET handler to return after the client left");
  });
});
