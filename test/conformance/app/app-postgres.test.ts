import { describeWholeApp } from "./suite.ts";

describeWholeApp("postgres");
