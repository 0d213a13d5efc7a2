import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { isMasterMessage, isWorkerMessage } from "../../src/supervise/protocol.ts";
import { renderSystemdUnit } from "../../src/supervise/unit.ts";

describe("IPC protocol guards", () => {
  it("accepts well-formed messages and ignores anything else", () => {
    assert.ok(isWorkerMessage({ tend: 1, type: "ready", workerId: "w1", pid: 5 }));
    assert.ok(
      isWorkerMessage({ tend: 1, type: "heartbeat", inFlight: 0, lastCompletionAt: null, sentAt: 1 }),
    );
    assert.ok(isWorkerMessage({ tend: 1, type: "stopped", workerId: "w1" }));
    assert.ok(!isWorkerMessage({ type: "ready", workerId: "w1", pid: 5 }));
    assert.ok(
      !isWorkerMessage({ tend: 1, type: "heartbeat", inFlight: "2", lastCompletionAt: null, sentAt: 1 }),
    );
    assert.ok(!isWorkerMessage("ready"));
    assert.ok(!isWorkerMessage(null));
    assert.ok(isMasterMessage({ tend: 1, type: "stop", reason: "scale down" }));
    assert.ok(!isMasterMessage({ tend: 1, type: "stop" }));
  });
});

describe("renderSystemdUnit", () => {
  it("renders a unit that restarts on failure, drains with KillMode=mixed and covers the stop budget", () => {
    const unit = renderSystemdUnit({
      workingDirectory: "/srv/app",
      execStart: "/usr/bin/node /srv/app/node_modules/.bin/tend supervise app.ts --min 1 --max 8",
      user: "app",
      environment: { DATABASE_URL: "postgres://app@db/app", NOTE: "two words" },
      stopBudget: "1m",
    });
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^KillMode=mixed$/m);
    assert.match(unit, /^TimeoutStopSec=75$/m);
    assert.match(unit, /^StartLimitIntervalSec=300$/m);
    assert.match(unit, /^StartLimitBurst=5$/m);
    assert.match(unit, /^Environment=NOTE="two words"$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  it("rejects a relative working directory and a multi-line command", () => {
    assert.throws(
      () => renderSystemdUnit({ workingDirectory: "srv", execStart: "x" }),
      (e) => isTendError(e, "TEND_E_SUPERVISE_INVALID_OPTION"),
    );
    assert.throws(
      () => renderSystemdUnit({ workingDirectory: "/srv", execStart: "x\ny" }),
      (e) => isTendError(e, "TEND_E_SUPERVISE_INVALID_OPTION"),
    );
  });
});
