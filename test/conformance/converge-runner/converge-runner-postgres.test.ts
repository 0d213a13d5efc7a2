import { describeConvergerRunner } from "./suite.ts";

describeConvergerRunner("postgres");
