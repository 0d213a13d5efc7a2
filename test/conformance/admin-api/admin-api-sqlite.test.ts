import { describeAdminApi } from "./suite.ts";

describeAdminApi("sqlite");
