import { describeConvergerRunner } from "./runner-suite.ts";

describeConvergerRunner("postgres");
