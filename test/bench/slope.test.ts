import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitLine } from "../../bench/_support/slope.ts";

describe("fitLine (the soak benchmark's growth fit)", () => {
  it("recovers an exact line with no error", () => {
    const fit = fitLine([0, 1, 2, 3], [1, 3, 5, 7]);
    assert.equal(fit.slope, 2);
    assert.equal(fit.intercept, 1);
    assert.equal(fit.slopeStdError, 0);
    assert.equal(fit.residualStdDev, 0);
  });

  it("gives flat noise a slope within two standard errors of zero", () => {
    const ys = [10, 12, 9, 11, 10, 12, 9, 11, 10, 12];
    const fit = fitLine(
      ys.map((_, i) => i),
      ys,
    );
    assert.ok(
      Math.abs(fit.slope) <= 2 * fit.slopeStdError,
      `slope ${fit.slope} vs error ${fit.slopeStdError}`,
    );
    assert.ok(fit.residualStdDev > 0.5 && fit.residualStdDev < 2);
  });

  it("tells steady growth from its noise", () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const ys = xs.map((x) => 100 + 3 * x + (x % 2 === 0 ? 1 : -1));
    const fit = fitLine(xs, ys);
    assert.ok(Math.abs(fit.slope - 3) < 0.1);
    assert.ok(fit.slope > 10 * fit.slopeStdError);
  });

  it("says NaN when the points cannot determine a slope", () => {
    assert.ok(Number.isNaN(fitLine([], []).slope));
    assert.ok(Number.isNaN(fitLine([1, 1, 1], [1, 2, 3]).slope));
    assert.ok(Number.isNaN(fitLine([1, 2], [1, 2]).slopeStdError));
    assert.throws(() => fitLine([1], []), RangeError);
  });
});
