import { describe, it } from "node:test";
import { requirePostgres } from "../../support/postgres.ts";
import { describeJobStoreContract } from "./suite.ts";

if (await requirePostgres()) {
  describeJobStoreContract("postgres");
} else {
  describe("JobStore contract: postgres", () => {
    it("is skipped: PostgreSQL is unreachable and TEND_SKIP_POSTGRES=1 (see the printed reason)", (t) => {
      t.skip("PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)");
    });
  });
}
