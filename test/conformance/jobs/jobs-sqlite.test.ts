import { describeJobsConformance } from "./suite.ts";

describeJobsConformance("sqlite");
