import { describeJobStoreContract } from "./suite.ts";

describeJobStoreContract("sqlite");
