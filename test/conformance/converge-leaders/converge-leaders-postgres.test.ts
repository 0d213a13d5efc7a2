import { describeLeaderProcesses } from "./suite.ts";

describeLeaderProcesses("postgres");
