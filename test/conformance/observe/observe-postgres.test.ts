import { describeObservedJobs } from "./suite.ts";

describeObservedJobs("postgres");
