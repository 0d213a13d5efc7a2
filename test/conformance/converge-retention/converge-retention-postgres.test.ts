import { describeConvergeRetention } from "./suite.ts";

describeConvergeRetention("postgres");
