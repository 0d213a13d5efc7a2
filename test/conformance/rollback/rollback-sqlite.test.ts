import { describeRollback } from "./suite.ts";

describeRollback("sqlite");
