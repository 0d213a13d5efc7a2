import { describeAccountsExample } from "./suite.ts";

describeAccountsExample("sqlite");
