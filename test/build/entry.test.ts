import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import { esmToSeaScript } from "../../src/cli/build/entry.ts";

describe("esmToSeaScript (pure)", () => {
  it("hoists Node imports as require calls and runs the body in an async function", async () => {
    const script = esmToSeaScript(
      [
        'import { join as j, sep } from "node:path";',
        "globalThis.out.push(j('a', 'b'));",
        'import * as os from "node:os";',
        'import fs from "node:fs";',
        'import "node:url";',
        "await null;",
        "globalThis.out.push(typeof os.hostname, typeof fs.readFileSync, sep);",
      ].join("\n"),
    );
    assert.match(script, /^"use strict";\nconst \{ join: j, sep \} = require\("node:path"\);/);
    const out: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      const context = { out, require: (id: string) => process.getBuiltinModule(id), process, globalThis: {} };
      context.globalThis = context;
      runInNewContext(script, context);
      setImmediate(resolve);
    });
    await done;
    assert.deepEqual(out, ["a/b", "function", "function", "/"]);
  });

  it("refuses an import form it does not know and an entry that exports", () => {
    assert.throws(() => esmToSeaScript('import a, { b } from "node:fs";'), /import form/);
    assert.throws(() => esmToSeaScript("export const x = 1;"), /exports/);
  });
});
