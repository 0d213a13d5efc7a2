import { describeConvergerRunner } from "./suite.ts";

describeConvergerRunner("sqlite");
