import { describeAdminOpsApi } from "./ops-suite.ts";

describeAdminOpsApi("sqlite");
