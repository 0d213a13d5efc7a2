import { describeLeaderProcesses } from "./leader-processes-suite.ts";

describeLeaderProcesses("sqlite");
