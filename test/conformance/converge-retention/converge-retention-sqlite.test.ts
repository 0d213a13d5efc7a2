import { describeConvergeRetention } from "./suite.ts";

describeConvergeRetention("sqlite");
