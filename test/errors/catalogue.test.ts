import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderErrorDocs } from "../../scripts/error-docs.ts";
import { ERROR_CODES } from "../../src/errors/catalogue.ts";

const root = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

describe("error catalogue", () => {
  it("lists every TEND_E_ code the sources use, and no code twice", () => {
    const used = new Set<string>();
    for (const file of sources(join(root, "src"))) {
      for (const m of readFileSync(file, "utf8").matchAll(/"(TEND_E_[A-Z0-9_]+)"/g)) used.add(m[1]!);
    }
    const missing = [...used].filter((c) => !(c in ERROR_CODES)).sort();
    assert.deepEqual(missing, [], "codes used in src/ but missing from a part's src/errors/codes/<part>.ts");
    const perPart = sources(join(root, "src", "errors", "codes"));
    const owners = new Map<string, string[]>();
    for (const file of perPart) {
      for (const m of readFileSync(file, "utf8").matchAll(/^\s+(TEND_E_[A-Z0-9_]+):/gm)) {
        owners.set(m[1]!, [...(owners.get(m[1]!) ?? []), file.slice(root.length + 1)]);
      }
    }
    const twice = [...owners].filter(([, files]) => files.length > 1);
    assert.deepEqual(twice, [], "a code is defined by two parts");
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^TEND_E_[A-Z0-9_]+$/);
      assert.ok(meaning.length > 10, `${code} has a meaning`);
    }
  });

  it("is documented in docs/errors.md (run `npm run docs:errors` after adding a code)", () => {
    assert.equal(readFileSync(join(root, "docs", "errors.md"), "utf8"), renderErrorDocs());
  });
});
