import { html, type SafeHtml } from "./html.ts";

/**
 * Pure: a whole dashboard page around `body`: the navigation, the read-only/actions mode, and
 * the style sheet and script served by tend (no inline script, so the page's CSP forbids any).
 *
 * @example
 * ```ts
 * const page = layout("Overview", html`<h1>Queues</h1>`, { readOnly: true });
 * ```
 */
export function layout(
  title: string,
  body: SafeHtml,
  options: { readOnly: boolean; session?: boolean },
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · tend</title>
        <link rel="stylesheet" href="/ui/style.css" />
        <script src="/ui/app.js" defer></script>
      </head>
      <body data-session="${options.session === true ? "1" : "0"}">
        <header>
          <strong>tend</strong>
          <nav>
            <a href="/ui">Overview</a> · <a href="/ui/jobs">Jobs</a> · <a href="/ui/queues">Queues</a> ·
            <a href="/ui/cron">Cron</a> · <a href="/ui/convergers">Convergers</a> ·
            <a href="/ui/inbox">Inbox</a> · <a href="/ui/workers">Workers</a> · <a href="/ui/audit">Audit</a>
          </nav>
          <span class="mode"
            >${
              options.readOnly
                ? "read-only (no admin token configured)"
                : options.session === true
                  ? html`logged in
                      <form method="post" action="/ui/logout" class="inline">
                        <button type="submit">Log out</button>
                      </form>`
                  : html`actions need the admin token · <a href="/ui/login">Log in</a>`
            }</span
          >
        </header>
        <main>${body}</main>
      </body>
    </html> `.text;
}
