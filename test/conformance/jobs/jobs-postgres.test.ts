import { describeJobsConformance } from "./suite.ts";

describeJobsConformance("postgres");
