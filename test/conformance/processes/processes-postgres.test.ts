import { describeProcessRegistry } from "./suite.ts";

describeProcessRegistry("postgres");
