import { describeObservedJobs } from "./suite.ts";

describeObservedJobs("sqlite");
