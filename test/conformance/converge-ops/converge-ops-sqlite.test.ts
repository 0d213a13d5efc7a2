import { describeConvergeOps } from "./suite.ts";

describeConvergeOps("sqlite");
