import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planTestPostgres } from "./postgres-plan.ts";

const DEFAULT = "postgres://postgres@127.0.0.1:5432/test";

describe("planTestPostgres", () => {
  it("probes the default URL when nothing is set", () => {
    assert.deepEqual(planTestPostgres({}, DEFAULT), { use: "probe", url: DEFAULT });
    assert.deepEqual(planTestPostgres({ TEND_TEST_POSTGRES_URL: "" }, DEFAULT), {
      use: "probe",
      url: DEFAULT,
    });
  });

  it("uses TEND_TEST_POSTGRES_URL as given", () => {
    const url = "postgres://app@db:6543/x";
    assert.deepEqual(planTestPostgres({ TEND_TEST_POSTGRES_URL: url }, DEFAULT), { use: "given", url });
  });

  it("probes TEND_TEST_POSTGRES_PROBE_URL instead of the default", () => {
    const url = "postgres://postgres@127.0.0.1:1/test";
    assert.deepEqual(planTestPostgres({ TEND_TEST_POSTGRES_PROBE_URL: url }, DEFAULT), { use: "probe", url });
  });

  it("starts an embedded server when TEND_TEST_EMBEDDED_POSTGRES=1, even with a URL given", () => {
    const plan = planTestPostgres(
      { TEND_TEST_EMBEDDED_POSTGRES: "1", TEND_TEST_POSTGRES_URL: "postgres://app@db/x" },
      DEFAULT,
    );
    assert.equal(plan.use, "embedded");
    assert.equal(planTestPostgres({ TEND_TEST_EMBEDDED_POSTGRES: "0" }, DEFAULT).use, "probe");
  });
});
