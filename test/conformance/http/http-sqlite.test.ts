import { describeHttp } from "./suite.ts";

describeHttp("sqlite");
