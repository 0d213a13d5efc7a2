import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { sameOrigin } from "../../src/http/api/session.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { type Backend, createBackend } from "../support/backends.ts";

const TOKEN = "admin-token-for-tests-0123456789";
const PUBLIC = "tend.example.com";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over node:http, which sends the Host and Origin headers given (fetch would not). */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", headers: { connection: "close", ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** What a proxy in front of tend sends on: `Host: localhost` (rewritten), the browser's Origin. */
function proxied(origin: string, more: Record<string, string> = {}): Record<string, string> {
  return { host: "localhost", origin, ...more };
}

function errorOf(answer: Answer): { code: string; message: string } {
  assert.match(String(answer.headers["content-type"]), /^application\/json/);
  return (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
}

describe("the login cookie behind a proxy that rewrites Host (http.allowedHosts)", () => {
  let backend: Backend | null;
  before(async () => {
    backend = await createBackend("sqlite");
  });
  after(() => backend?.cleanup());

  async function startApp(t: { after(fn: () => unknown): void }) {
    const capture = captureLog();
    const app = createApp({
      database: backend!.url,
      log: capture.log,
      http: { port: 0, dashboard: true, adminToken: TOKEN, allowedHosts: [PUBLIC] },
      jobs: { queues: {} },
    });
    const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
    await app.start(manager);
    t.after(() => manager.stop());
    return app.httpAddress!;
  }

  async function login(base: string, origin: string): Promise<Answer> {
    return send(base, "/ui/login", {
      method: "POST",
      headers: proxied(origin, { "content-type": "application/x-www-form-urlencoded" }),
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
  }

  it("accepts an Origin naming an allowed host, pure", () => {
    assert.ok(sameOrigin({ origin: `https://${PUBLIC}`, host: "localhost" }, [PUBLIC]));
    assert.ok(sameOrigin({ origin: `http://TEND.example.com:8443`, host: "127.0.0.1:9" }, [PUBLIC]));
    assert.ok(!sameOrigin({ origin: `https://${PUBLIC}`, host: "localhost" }));
    assert.ok(!sameOrigin({ origin: "https://evil.example", host: "localhost" }, [PUBLIC]));
    assert.ok(!sameOrigin({ origin: `https://${PUBLIC}.evil.example`, host: "localhost" }, [PUBLIC]));
    assert.ok(!sameOrigin({ origin: `ftp://${PUBLIC}`, host: "localhost" }, [PUBLIC]));
    assert.ok(!sameOrigin({ origin: "null", host: "localhost" }, [PUBLIC]));
    assert.ok(!sameOrigin({ host: "localhost" }, [PUBLIC]));
  });

  it("logs in and acts by the cookie from the public origin; any other origin is still refused", async (t) => {
    if (backend === null) return t.skip("no backend");
    const base = await startApp(t);

    const foreignLogin = await login(base, "https://evil.example");
    assert.equal(foreignLogin.status, 403);
    assert.match(foreignLogin.body, /must be sent from this server.*own page/);
    assert.equal(foreignLogin.headers["set-cookie"], undefined);

    const ok = await login(base, `https://${PUBLIC}`);
    assert.equal(ok.status, 303, ok.body);
    assert.equal(ok.headers["location"], "/ui");
    const cookie = String(ok.headers["set-cookie"]).split(";")[0]!;
    assert.match(cookie, /^tend_admin=\d+\./);

    const pause = (origin: string) =>
      send(base, "/api/queues/mail/pause", { method: "POST", headers: proxied(origin, { cookie }) });
    const refused = await pause("https://evil.example");
    assert.equal(refused.status, 403);
    assert.equal(errorOf(refused).code, "TEND_E_ADMIN_FORBIDDEN");
    const acted = await pause(`https://${PUBLIC}`);
    assert.equal(acted.status, 200, acted.body);
    assert.equal((JSON.parse(acted.body) as { queue: { paused: boolean } }).queue.paused, true);

    // Without the proxy: the request's own Host still counts as before.
    const direct = await send(base, "/api/queues/mail/resume", {
      method: "POST",
      headers: { origin: base, cookie },
    });
    assert.equal(direct.status, 200, direct.body);
  });

  it("logout: the public origin logs out; another origin gets the API's 403 error shape", async (t) => {
    if (backend === null) return t.skip("no backend");
    const base = await startApp(t);
    const refused = await send(base, "/ui/logout", {
      method: "POST",
      headers: proxied("https://evil.example"),
    });
    assert.equal(refused.status, 403);
    const error = errorOf(refused);
    assert.equal(error.code, "TEND_E_ADMIN_FORBIDDEN");
    assert.match(error.message, /Origin/);
    assert.equal(refused.headers["set-cookie"], undefined);

    const out = await send(base, "/ui/logout", { method: "POST", headers: proxied(`https://${PUBLIC}`) });
    assert.equal(out.status, 303);
    assert.match(String(out.headers["set-cookie"]), /^tend_admin=; .*Max-Age=0$/);
  });
});
