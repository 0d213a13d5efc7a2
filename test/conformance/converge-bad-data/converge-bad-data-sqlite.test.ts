import { describeConvergeBadData } from "./suite.ts";

describeConvergeBadData("sqlite");
