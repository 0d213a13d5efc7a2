import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { Manager } from "../../src/lifecycle/manager.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { captureLog } from "../lifecycle/log-capture.ts";

const CHROMIUM = process.env["TEND_CHROMIUM"] ?? "/usr/bin/chromium";

/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core: no browser is
 * downloaded): the overview shows the counts, and a job whose payload holds a script renders it
 * as text without running it.
 */
describe("the dashboard in Chromium", () => {
  let backend: Backend | null;
  before(async () => {
    backend = await createBackend("sqlite");
  });
  after(async () => {
    await backend?.cleanup();
  });

  it("shows queue counts on the overview and keeps a <script> payload inert on the job page", async (t) => {
    if (!existsSync(CHROMIUM))
      return t.skip(`no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium; or set TEND_CHROMIUM)`);
    const { chromium } = await import("playwright-core");
    const capture = captureLog();
    const app = createApp({
      database: backend!.url,
      log: capture.log,
      http: { port: 0, dashboard: true, adminToken: "browser-test-token-0123456789" },
    });
    const manager = new Manager({ log: capture.log, shutdownTimeout: "10s" });
    await app.start(manager);
    t.after(() => manager.stop());
    const base = app.httpAddress!;
    for (let i = 0; i < 3; i++) await app.enqueue("browser.mail", { i }, { queue: "mail" });
    const evil = await app.enqueue(
      "browser.evil",
      { html: '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">' },
      { queue: "evil", delay: "1h" },
    );

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox"],
    });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));

    await page.goto(`${base}/ui`);
    assert.equal(await page.textContent('[data-count="mail:available"]'), "3");
    assert.equal(await page.textContent('[data-count="evil:scheduled"]'), "1");

    await page.click('a[href="/ui/jobs?queue=evil"]');
    await page.click(`a[href="/ui/jobs/${evil.id}"]`);
    assert.equal(new URL(page.url()).pathname, `/ui/jobs/${evil.id}`);
    const payload = await page.textContent("#payload");
    assert.match(payload ?? "", /<script>window\.pwned = 1<\/script>/, "the script shows as text");
    assert.equal(await page.locator("#payload script, #payload img").count(), 0, "no element was made");
    assert.equal(await page.evaluate("window.pwned"), undefined);
    assert.equal(await page.locator('button[data-url$="/cancel"]').count(), 1, "actions shown with a token");
    assert.deepEqual(errors, []);
  });
});
