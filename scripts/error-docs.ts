/**
 * Writes docs/errors.md from the error catalogue (src/errors/catalogue.ts). Run with
 * `npm run docs:errors` after adding a code; a test fails while the doc and the catalogue differ.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES } from "../src/errors/catalogue.ts";

export function renderErrorDocs(): string {
  const lines = [
    "# Error codes",
    "",
    "Every error tend throws is a `TendError` with a stable `code`, structured `details` and, where",
    "there is one, a `cause`. Branch on `code`, never on the message. Codes are never reused for a",
    "different meaning. Errors recorded on a job (`job.errors[].code`) use the same codes.",
    "",
    "This page is generated from `src/errors/catalogue.ts` by `npm run docs:errors`.",
    "",
    "| code | meaning |",
    "| --- | --- |",
  ];
  for (const [code, meaning] of Object.entries(ERROR_CODES).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| \`${code}\` | ${meaning.replaceAll("|", "\\|")} |`);
  }
  return `${lines.join("\n")}\n`;
}

if (import.meta.main) {
  writeFileSync(join(import.meta.dirname, "..", "docs", "errors.md"), renderErrorDocs());
  console.log("wrote docs/errors.md");
}
