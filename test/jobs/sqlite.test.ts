import { describeJobsConformance } from "./conformance/index.ts";

describeJobsConformance("sqlite");
