import { describeConvergeBadData } from "./suite.ts";

describeConvergeBadData("postgres");
