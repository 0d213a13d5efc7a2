import { describeAccountsExample } from "./suite.ts";

describeAccountsExample("postgres");
