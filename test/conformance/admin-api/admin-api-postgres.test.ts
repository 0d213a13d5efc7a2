import { describeAdminApi } from "./suite.ts";

describeAdminApi("postgres");
