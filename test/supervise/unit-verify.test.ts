import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execStartArgv, hasPassword, insideNodeModules } from "../../src/cli/commands/unit.ts";
import { makeTempDir } from "../support/tmp.ts";

const root = join(import.meta.dirname, "..", "..");
const TEND = join(root, "bin", "tend.js");
const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
const noSystemd =
  analyze.status === 0
    ? null
    : "systemd-analyze is not installed (Debian package systemd; .ci/run installs it)";

/**
 * `tend unit` writes units that run an executable made by `tend build` (or a script with an
 * explicit Node outside node_modules), read secrets from an EnvironmentFile= it never writes, and
 * pass `systemd-analyze verify`; so does the importer example's unit.
 */
describe("tend unit and systemd-analyze verify", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let exe: string;
  before(async () => {
    tmp = await makeTempDir("tend-unit-");
    // Stand-ins for the built executable and a system Node: verify checks that ExecStart's file
    // exists and is executable, not what it does.
    exe = join(tmp.dir, "srv", "app", "app");
    mkdirSync(join(tmp.dir, "srv", "app"), { recursive: true });
    writeFileSync(exe, "#!/bin/sh\nexit 0\n");
    chmodSync(exe, 0o755);
  });
  after(async () => tmp?.cleanup());

  function tend(...args: string[]) {
    return spawnSync(process.execPath, [TEND, ...args], { encoding: "utf8", cwd: tmp.dir, timeout: 30_000 });
  }

  function verify(name: string, text: string): void {
    const file = join(tmp.dir, name);
    writeFileSync(file, text);
    const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
    const complaints = r.stderr
      .split("\n")
      .filter((l) => l.includes(name) && !/Special user|configured, this is not safe/.test(l));
    assert.equal(r.status, 0, `${name}:\n${r.stderr}\n${text}`);
    assert.deepEqual(complaints, [], text);
  }

  it("pure parts: ExecStart, node_modules paths, passwords in URLs", () => {
    assert.deepEqual(execStartArgv({ exec: "/srv/app/app" }, ["--min", "1"], true), [
      "/srv/app/app",
      "tend",
      "supervise",
      "--min",
      "1",
    ]);
    assert.deepEqual(execStartArgv({ exec: "/srv/app/app" }, ["--min", "1"], false), ["/srv/app/app"]);
    assert.deepEqual(
      execStartArgv({ node: "/usr/bin/node", program: "/a/main.js", tend: "/a/t.js" }, [], false),
      ["/usr/bin/node", "/a/main.js"],
    );
    assert.equal(insideNodeModules("/srv/app/node_modules/node/bin/node"), true);
    assert.equal(insideNodeModules("/usr/bin/node"), false);
    assert.equal(hasPassword("postgres://app:secret@db/app"), true);
    assert.equal(hasPassword("postgres://app@db/app"), false);
    assert.equal(hasPassword("sqlite:./var/tend.db"), false);
  });

  it("a unit for the executable: supervised, secrets from an EnvironmentFile, verified", (t) => {
    const r = tend(
      "unit",
      "--exec",
      exe,
      "--environment-file",
      "/etc/app/env",
      "--min",
      "1",
      "--max",
      "4",
      "--user",
      "root",
      "--working-directory",
      join(tmp.dir, "srv", "app"),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^ExecStart=${exe} tend supervise --min 1 --max 4 --kill-timeout 30000$`, "m"),
    );
    assert.match(r.stdout, /^EnvironmentFile=\/etc\/app\/env$/m);
    assert.doesNotMatch(r.stdout, /node_modules|TEND_DATABASE_URL/);
    if (noSystemd !== null) return t.skip(noSystemd);
    verify("app.service", r.stdout);
    const single = tend("unit", "--exec", exe, "--no-supervise", "--environment-file", "/etc/app/env");
    assert.equal(single.status, 0, single.stderr);
    assert.match(single.stdout, new RegExp(`^ExecStart=${exe}$`, "m"));
    verify("app-single.service", single.stdout);
  });

  it("a unit for a script needs an explicit Node outside node_modules, verified", (t) => {
    const node = join(tmp.dir, "usr-bin-node");
    copyFileSync(exe, node);
    chmodSync(node, 0o755);
    const ok = tend("unit", join(root, "examples", "importer", "main.ts"), "--node", node, "--no-supervise");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^ExecStart=${node} .*examples/importer/main\\.ts$`, "m"));
    const noNode = tend("unit", "app.js");
    assert.equal(noNode.status, 1);
    assert.match(noNode.stderr, /--node.*TEND_E_SUPERVISE_INVALID_OPTION/);
    const inModules = tend("unit", "app.js", "--node", join(root, "node_modules", "node", "bin", "node"));
    assert.equal(inModules.status, 1);
    assert.match(inModules.stderr, /outside node_modules.*TEND_E_SUPERVISE_INVALID_OPTION/);
    const secret = tend("unit", "--exec", exe, "--database", "postgres://app:hunter2@db/app");
    assert.equal(secret.status, 1);
    assert.match(secret.stderr, /environment-file.*TEND_E_SUPERVISE_INVALID_OPTION/);
    assert.doesNotMatch(secret.stderr, /hunter2/);
    if (noSystemd !== null) return t.skip(noSystemd);
    verify("script.service", ok.stdout);
  });

  it("the importer example's unit runs the built executable and verifies", (t) => {
    const text = readFileSync(join(root, "examples", "importer", "importer.service"), "utf8");
    assert.match(text, /^ExecStart=\/srv\/importer\/importer$/m);
    const settings = text.split("\n").filter((l) => !l.startsWith("#"));
    assert.doesNotMatch(settings.join("\n"), /\.ts\b|node_modules|\/usr\/bin\/node/);
    if (noSystemd !== null) return t.skip(noSystemd);
    // The host's path of the executable, pointed at the stand-in here.
    verify("importer.service", text.replace("ExecStart=/srv/importer/importer", `ExecStart=${exe}`));
  });
});
