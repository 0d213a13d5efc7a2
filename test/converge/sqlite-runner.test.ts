import { describeConvergerRunner } from "./runner-suite.ts";

describeConvergerRunner("sqlite");
