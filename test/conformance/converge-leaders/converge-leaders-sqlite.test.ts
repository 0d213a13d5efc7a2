import { describeLeaderProcesses } from "./suite.ts";

describeLeaderProcesses("sqlite");
