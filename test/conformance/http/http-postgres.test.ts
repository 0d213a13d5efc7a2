import { describeHttp } from "./suite.ts";

describeHttp("postgres");
