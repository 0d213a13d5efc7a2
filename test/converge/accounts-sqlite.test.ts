import { describeAccountsExample } from "./accounts-suite.ts";

describeAccountsExample("sqlite");
