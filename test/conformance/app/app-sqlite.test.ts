import { describeWholeApp } from "./suite.ts";

describeWholeApp("sqlite");
