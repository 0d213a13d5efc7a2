import { describeConvergeOps } from "./suite.ts";

describeConvergeOps("postgres");
