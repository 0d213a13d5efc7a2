import { describeLeaderProcesses } from "./leader-processes-suite.ts";

describeLeaderProcesses("postgres");
