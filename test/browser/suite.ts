import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type App, createApp, type AppOptions } from "../../src/app.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { itemConverger } from "../support/items.ts";
import { type Operator, openOperator } from "../support/operator.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { captureLog } from "../lifecycle/log-capture.ts";

const CHROMIUM = process.env["TEND_CHROMIUM"] ?? "/usr/bin/chromium";
const TOKEN = "browser-test-token-0123456789";
/** Set to a folder (e.g. docs/images) to save a screenshot of each page visited. */
const SHOTS = process.env["TEND_SCREENSHOT_DIR"];

interface TestContext {
  after(fn: () => unknown): void;
  skip(message: string): void;
}

/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core: no browser is
 * downloaded) against a real app on one driver: live counts, the discarded-job retry round trip
 * without reloading, bulk cancel after seeing the count, read-only mode, the audit page, and a
 * payload holding `<script>` that stays inert.
 */
export function describeDashboardInBrowser(driver: "sqlite" | "postgres"): void {
  describe(`the dashboard in Chromium on ${driver}`, () => {
    let backend: Backend | null = null;
    let browser: Browser | null = null;
    let why: string | null = null;
    let op: Operator | null = null;
    let tmp: { dir: string; cleanup(): Promise<void> } | null = null;

    before(async () => {
      if (!existsSync(CHROMIUM)) {
        why = `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium; or set TEND_CHROMIUM)`;
        return;
      }
      backend = await createBackend(driver);
      if (backend === null) {
        why = "PostgreSQL unavailable";
        return;
      }
      op = await openOperator(backend);
      await op.exec("CREATE TABLE item (id integer PRIMARY KEY, desired text, actual text)");
      tmp = await makeTempDir("tend-browser-");
      const { chromium } = await import("playwright-core");
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    });
    after(async () => {
      await browser?.close();
      await op?.close();
      await backend?.cleanup();
      await tmp?.cleanup();
    });

    async function startApp(
      t: TestContext,
      options: Partial<AppOptions>,
      define: (app: App) => void = () => {},
    ): Promise<{ app: App; base: string }> {
      const capture = captureLog();
      const app = createApp({
        database: backend!.url,
        log: capture.log,
        jobs: { queues: {} },
        ...options,
        http: options.http ?? { port: 0, dashboard: true, adminToken: TOKEN },
      });
      define(app);
      const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
      await app.start(manager);
      t.after(() => manager.stop());
      return { app, base: app.httpAddress! };
    }

    /** A new page that answers the token prompt and records script errors. */
    async function openPage(t: TestContext): Promise<{ page: Page; errors: string[] }> {
      const context = await browser!.newContext({ viewport: { width: 1100, height: 640 } });
      t.after(() => context.close());
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      page.on(
        "dialog",
        (dialog) => void (dialog.type() === "prompt" ? dialog.accept(TOKEN) : dialog.accept()),
      );
      return { page, errors };
    }

    /** Saves a screenshot (SQLite run only, when TEND_SCREENSHOT_DIR is set). */
    async function shot(page: Page, name: string): Promise<void> {
      if (SHOTS === undefined || driver !== "sqlite") return;
      await mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`) });
    }

    /** Marks the page; the mark survives only while the page is not reloaded. */
    const mark = (page: Page) => page.evaluate("window.notReloaded = true");
    const stillMarked = async (page: Page) => assert.equal(await page.evaluate("window.notReloaded"), true);

    it("shows queue counts that change while jobs run, without reloading", async (t) => {
      if (why !== null) return t.skip(why);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { app, base } = await startApp(t, { jobs: { queues: { live: { concurrency: 3 } } } });
      app.job("browser.slow", async () => gate, { queue: "live" });
      for (let i = 0; i < 5; i++) await app.enqueue("browser.slow", { i }, { queue: "live" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui`);
      await mark(page);
      // Both counts from one rendering (a worker may claim ahead of its concurrency).
      const counts = async () =>
        (await page.evaluate(
          `["available", "running"].map((s) => Number(document.querySelector('[data-count="live:' + s + '"]')?.textContent ?? "NaN"))`,
        )) as number[];
      await waitFor(
        async () => {
          const [available, running] = await counts();
          return running! > 0 && available! + running! === 5;
        },
        { timeoutMs: 30_000, message: "the overview to show the jobs running" },
      );
      await shot(page, "overview");
      release();
      await waitFor(async () => (await counts()).every((n) => n === 0), {
        timeoutMs: 30_000,
        message: "the overview to show every job done",
      });
      await stillMarked(page);
      assert.deepEqual(errors, []);
    });

    it("charts the last hour on the overview, and finds a job by text and time range through the list's form", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, { jobs: { queues: { hour: { concurrency: 2 } } } });
      app.job("browser.hour", async () => ({ ok: true }), { queue: "hour" });
      const ids: string[] = [];
      for (const to of ["carol", "dave", "erin"])
        ids.push((await app.enqueue("browser.hour", { to: `${to}@example.com` }, { queue: "hour" })).id);
      await waitFor(
        async () =>
          (await Promise.all(ids.map((id) => app.jobs.get(id)))).every((j) => j?.state === "completed"),
        { timeoutMs: 30_000, message: "every job completed" },
      );
      const { page, errors } = await openPage(t);
      const csp: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) csp.push(m.text());
      });
      await page.goto(`${base}/ui`);
      await waitFor(
        async () =>
          (await page.evaluate(
            `document.querySelector('[data-hour="hour:completed"]')?.textContent?.trim()`,
          )) === "3",
        { timeoutMs: 30_000, message: "the last hour to count the 3 completed jobs" },
      );
      // The overview refreshes itself: a box read while it re-renders is null, so it is read until drawn.
      let chart: { width: number; height: number } | null = null;
      await waitFor(
        async () => {
          chart = await page.locator("svg.chart").first().boundingBox();
          return chart !== null && chart.width > 100 && chart.height > 20;
        },
        { timeoutMs: 10_000, message: "the chart drawn" },
      ).catch(() => assert.fail(`chart drawn: ${JSON.stringify(chart)}`));
      assert.ok((await page.locator("svg.chart polyline").count()) >= 4, "lines drawn");
      await shot(page, "last-hour");

      await page.goto(`${base}/ui/jobs`);
      await page.fill('input[name="q"]', "DAVE@");
      await page.fill('input[name="from"]', new Date(Date.now() - 3_600_000).toISOString());
      await page.click('form.filters button[type="submit"]');
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("q"), "DAVE@");
      const rows = (await page.evaluate(
        `[...document.querySelectorAll("main table tbody tr td:first-child a")].map((a) => a.textContent)`,
      )) as string[];
      assert.deepEqual(rows, [ids[1]]);
      assert.deepEqual(errors, []);
      assert.deepEqual(csp, [], "no CSP violation");
    });

    it("filters discarded jobs, opens one, retries it and watches it complete without reloading", async (t) => {
      if (why !== null) return t.skip(why);
      let broken = true;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { app, base } = await startApp(t, { jobs: { queues: { flaky: { concurrency: 1 } } } });
      app.job(
        "browser.flaky",
        async () => {
          if (broken) throw new Error("the mail server said no");
          await gate;
          return { sent: true };
        },
        { queue: "flaky", maxAttempts: 1 },
      );
      const { id } = await app.enqueue("browser.flaky", { to: "a@example.com" }, { queue: "flaky" });
      await waitFor(async () => (await app.jobs.get(id))?.state === "discarded", { message: "discarded" });

      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/jobs`);
      await page.selectOption('select[name="state"]', "discarded");
      await page.click('form.filters button[type="submit"]');
      assert.equal(new URL(page.url()).searchParams.get("state"), "discarded");
      await shot(page, "jobs");
      await page.click(`a[href="/ui/jobs/${id}"]`);
      assert.equal(await page.textContent("#state"), "discarded");
      assert.match((await page.textContent("main")) ?? "", /the mail server said no/);
      await mark(page);
      broken = false;
      await page.click('button[data-url$="/retry"]');
      await page.locator("#state", { hasText: "running" }).waitFor();
      await shot(page, "job");
      release();
      await page.locator("#state", { hasText: "completed" }).waitFor();
      assert.match((await page.textContent("#result")) ?? "", /"sent": true/);
      await stillMarked(page);
      assert.deepEqual(errors, []);
    });

    it("bulk-cancels 500 scheduled jobs after showing their count, and audits it with the count", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, {});
      const items = Array.from({ length: 500 }, (_, i) => ({
        kind: "browser.later",
        payload: { i },
        queue: "many",
        delay: "1h",
      }));
      await app.enqueueMany(items);
      await app.enqueue("browser.now", {}, { queue: "many" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/jobs?state=scheduled&queue=many`);
      await page.selectOption('form[data-bulk] select[name="action"]', "cancel");
      await page.click('form[data-bulk] button[type="submit"]');
      const result = page.locator("[data-bulk-result]");
      await result.filter({ hasText: "500 job(s) match." }).waitFor();
      const store = await app.store();
      assert.equal(
        await store.admin.countBulk("cancel", { queue: "many" }),
        501,
        "nothing was cancelled by counting",
      );
      await shot(page, "bulk");
      await page.click('form[data-bulk] button:has-text("Confirm: cancel 500 job(s)")');
      await result.filter({ hasText: "cancel: 500 job(s) done." }).waitFor();
      assert.equal(
        await store.admin.countBulk("cancel", { queue: "many" }),
        1,
        "only the available job is left",
      );
      assert.equal((await store.jobs.list({ queue: "many", state: "cancelled", limit: 1000 })).length, 500);
      await page.goto(`${base}/ui/audit`);
      const first = await page.locator("tbody tr").first().locator("td").allTextContents();
      assert.deepEqual(first.slice(1, 5), [
        "jobs.bulk.cancel",
        "jobs?state=scheduled&queue=many",
        "ok",
        '{"count":500,"skipped":0}',
      ]);
      assert.deepEqual(errors, []);
    });

    it("logs in through the form: an HttpOnly SameSite=Strict cookie, then actions without a token prompt", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, {});
      const { id } = await app.enqueue("browser.login", {}, { queue: "login", delay: "1h" });
      const { page, errors } = await openPage(t);
      let prompts = 0;
      page.on("dialog", () => prompts++);
      await page.goto(`${base}/ui`);
      await page.click('a[href="/ui/login"]');
      await page.fill('input[name="token"]', TOKEN);
      await shot(page, "login");
      await page.click('form.login button[type="submit"]');
      await page.waitForURL(`${base}/ui`);
      assert.match((await page.textContent("header .mode")) ?? "", /logged in/);
      const [cookie] = await page.context().cookies();
      assert.equal(cookie?.name, "tend_admin");
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, "Strict");
      assert.equal(await page.evaluate("document.cookie"), "", "scripts cannot read it");
      await page.goto(`${base}/ui/jobs/${id}`);
      await page.click('button[data-url$="/cancel"]');
      await page.locator("#state", { hasText: "cancelled" }).waitFor();
      assert.equal(prompts, 0, "no token was asked");
      await page.click('header button:has-text("Log out")');
      await page.waitForURL(`${base}/ui`);
      assert.deepEqual(await page.context().cookies(), []);
      assert.deepEqual(errors, []);
    });

    it("keeps a <script> payload inert on the job page", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, {});
      const evil = await app.enqueue(
        "browser.evil",
        { html: '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">' },
        { queue: "evil", delay: "1h" },
      );
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui`);
      assert.equal(await page.textContent('[data-count="evil:scheduled"]'), "1");
      await page.click('a[href="/ui/jobs?queue=evil"]');
      await page.click(`a[href="/ui/jobs/${evil.id}"]`);
      assert.equal(new URL(page.url()).pathname, `/ui/jobs/${evil.id}`);
      const payload = await page.textContent("#payload");
      assert.match(payload ?? "", /<script>window\.pwned = 1<\/script>/, "the script shows as text");
      assert.equal(await page.locator("#payload script, #payload img").count(), 0, "no element was made");
      assert.equal(await page.evaluate("window.pwned"), undefined);
      assert.equal(
        await page.locator('button[data-url$="/cancel"]').count(),
        1,
        "actions shown with a token",
      );
      assert.deepEqual(errors, []);
    });

    it("in read-only mode shows no action and the API refuses them with 403", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, { http: { port: 0, dashboard: true } });
      const { id } = await app.enqueue("browser.ro", { n: 1 }, { queue: "readonly" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/jobs/${id}`);
      assert.match((await page.textContent("header .mode")) ?? "", /read-only/);
      assert.equal(await page.locator("button[data-url]").count(), 0, "no action button");
      await shot(page, "read-only");
      for (const path of ["/ui/queues", "/ui/cron", "/ui/convergers", "/ui/inbox", "/ui/workers"]) {
        await page.goto(`${base}${path}`);
        assert.equal(await page.locator("button[data-url]").count(), 0, `no action button on ${path}`);
      }
      const answers = await page.evaluate(async (jobId) => {
        const out: Array<[number, string]> = [];
        for (const [method, url] of [
          ["POST", `/api/jobs/${jobId}/cancel`],
          ["POST", `/api/jobs/${jobId}/retry`],
          ["DELETE", `/api/jobs/${jobId}`],
        ]) {
          const res = await fetch(url!, {
            method: method!,
            headers: { authorization: "Bearer whatever-token-0123456789" },
          });
          const body = (await res.json()) as { error: { code: string } };
          out.push([res.status, body.error.code]);
        }
        return out;
      }, id);
      assert.deepEqual(answers, [
        [403, "TEND_E_ADMIN_READ_ONLY"],
        [403, "TEND_E_ADMIN_READ_ONLY"],
        [403, "TEND_E_ADMIN_READ_ONLY"],
      ]);
      assert.equal((await app.jobs.get(id))?.state, "available", "nothing changed");
      assert.deepEqual(errors, []);
    });

    it("lists every action taken from the pages on the audit page", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, {});
      const { id } = await app.enqueue("browser.audited", { n: 1 }, { queue: "audited", delay: "1h" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/jobs/${id}`);
      await page.click('button[data-url$="/cancel"]');
      await page.locator("#state", { hasText: "cancelled" }).waitFor();
      await page.click('button[data-url$="/retry"]');
      await page.locator("#state", { hasText: "available" }).waitFor();
      await page.click(`button[data-method="DELETE"]`);
      await page.waitForURL(`${base}/ui/jobs`);
      assert.equal(await app.jobs.get(id), null);
      await page.click('a[href="/ui/audit"]');
      // The rows are read once the audit page is the one shown (the jobs list has rows too).
      await page.waitForURL(`${base}/ui/audit`);
      await page
        .locator("tbody tr td", { hasText: `job:${id}` })
        .first()
        .waitFor();
      const rows = await page
        .locator("tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll("td")].slice(1, 4).map((td) => td.textContent)),
        );
      const target = `job:${id}`;
      const mine = rows.filter((r) => r[1] === target);
      assert.deepEqual(mine, [
        ["job.delete", target, "ok"],
        ["job.retry", target, "ok"],
        ["job.cancel", target, "ok"],
      ]);
      await shot(page, "audit");
      assert.deepEqual(errors, []);
    });

    it("sees an inconsistency appear on the convergers page after an operator's UPDATE, without reloading", async (t) => {
      if (why !== null) return t.skip(why);
      await op!.exec("INSERT INTO item (id, desired, actual) VALUES (1, 'red', 'red')");
      const { base } = await startApp(t, {}, (app) =>
        app.converger(
          itemConverger("browser-items", {
            wakeOn: [{ table: "item", key: "id" }],
            every: "1h",
            pollInterval: "25ms",
          }),
        ),
      );
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/convergers`);
      await page.locator('[data-converger="browser-items"] td', { hasText: "(this process)" }).waitFor();
      assert.equal(await page.locator('[data-inconsistency="browser-items/1"]').count(), 0);
      await mark(page);
      // The operator's own SQL, outside tend: the converger wakes on the row and repairs it.
      await op!.exec("UPDATE item SET desired = 'blue' WHERE id = 1");
      await page.locator('[data-inconsistency="browser-items/1"]').waitFor({ timeout: 30_000 });
      assert.match(
        (await page.textContent('[data-inconsistency="browser-items/1"]')) ?? "",
        /"actual":"blue"/,
      );
      await stillMarked(page);
      await shot(page, "convergers");
      // Filtered by converger and key, then sweep now (acts through the store, audited).
      await page.fill('input[name="key"]', "2");
      await page.click('form.filters button[type="submit"]');
      assert.equal(await page.locator("[data-inconsistency]").count(), 0);
      // The button's request is sent by the page's script: the audit page is read once it answered.
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/api/convergers/browser-items/sweep")),
        page.click('button[data-url="/api/convergers/browser-items/sweep"]'),
      ]);
      await page.goto(`${base}/ui/audit`);
      assert.equal(
        await page.locator("tbody tr").first().locator("td").nth(1).textContent(),
        "converger.sweep",
      );
      assert.deepEqual(errors, []);
    });

    it("retries a failed inbox file from the inbox page and sees it done", async (t) => {
      if (why !== null) return t.skip(why);
      const dir = join(tmp!.dir, "inbox");
      let broken = true;
      const { base } = await startApp(t, {}, (app) =>
        app.inbox({
          name: "orders",
          dir,
          settle: 0,
          retries: 0,
          process: async () => {
            if (broken) throw new Error("row 3 has 1 field, the header has 2");
          },
        }),
      );
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/inbox`);
      await page.locator('[data-inbox="orders"]').waitFor();
      await writeFile(join(tmp!.dir, "orders.csv.part"), "a,b\n1\n");
      await rename(join(tmp!.dir, "orders.csv.part"), join(dir, "orders.csv"));
      const row = page.locator('[data-failed-file="orders.csv"]');
      await row.waitFor({ timeout: 30_000 });
      assert.match((await row.textContent()) ?? "", /row 3 has 1 field, the header has 2/);
      await shot(page, "inbox");
      broken = false;
      await row.locator("button", { hasText: "Retry" }).click();
      await row.waitFor({ state: "detached" });
      await waitFor(() => existsSync(join(dir, "done", "orders.csv")), { message: "the retried file done" });
      assert.deepEqual(errors, []);
    });

    it("pauses and resumes a queue from the queues page with the keyboard, and lists this process on the workers page", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, { jobs: { queues: { mail: { concurrency: 2 } } } });
      await app.enqueue("browser.mail", { to: "a@example.com" }, { queue: "mail", delay: "1h" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui`);
      await page.click('nav a[href="/ui/queues"]');
      const status = page.locator('[data-queue="mail"] [data-status]');
      assert.match((await status.textContent()) ?? "", /running/);
      await page.locator('button[data-url="/api/queues/mail/pause"]').focus();
      await page.keyboard.press("Enter");
      await status.filter({ hasText: "paused" }).waitFor();
      assert.equal((await app.jobs.listQueues()).find((q) => q.queue === "mail")?.paused, true);
      await shot(page, "queues");
      await page.click('button[data-url="/api/queues/mail/resume"]');
      await status.filter({ hasText: "running" }).waitFor();
      assert.equal((await app.jobs.listQueues()).find((q) => q.queue === "mail")?.paused, false);
      await page.click('nav a[href="/ui/workers"]');
      await page.locator(`[data-worker="${app.jobs.workerId}"]`).waitFor();
      assert.match((await page.textContent(`[data-worker="${app.jobs.workerId}"]`)) ?? "", /alive/);
      await shot(page, "workers");
      assert.deepEqual(errors, []);
    });

    it("runs a cron schedule now and disables it from the cron page", async (t) => {
      if (why !== null) return t.skip(why);
      const { app, base } = await startApp(t, {}, (a) =>
        a.cron("0 2 * * *", "browser.nightly", { purge: true }, { name: "nightly-purge", queue: "nightly" }),
      );
      await waitFor(async () => (await app.jobs.cronEntries()).length === 1, { message: "registered" });
      const { page, errors } = await openPage(t);
      await page.goto(`${base}/ui/cron`);
      const row = page.locator('[data-cron="nightly-purge"]');
      assert.match((await row.textContent()) ?? "", /at 02:00 every day/);
      await row.locator("button", { hasText: "Run now" }).click();
      await waitFor(async () => (await app.jobs.list({ queue: "nightly" })).length === 1, {
        message: "the schedule's job enqueued",
      });
      const [job] = await app.jobs.list({ queue: "nightly" });
      assert.deepEqual([job?.kind, job?.payload], ["browser.nightly", { purge: true }]);
      await row.locator("button", { hasText: "Disable" }).click();
      await page.locator('[data-cron="nightly-purge"] [data-status]', { hasText: "disabled" }).waitFor();
      assert.equal((await app.jobs.cronEntries())[0]?.paused, true);
      await shot(page, "cron");
      assert.deepEqual(errors, []);
    });
  });
}
