import { describeProcessRegistry } from "./suite.ts";

describeProcessRegistry("sqlite");
