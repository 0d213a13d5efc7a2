import { describeRollback } from "./suite.ts";

describeRollback("postgres");
