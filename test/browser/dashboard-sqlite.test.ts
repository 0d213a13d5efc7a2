import { describeDashboardInBrowser } from "./suite.ts";

describeDashboardInBrowser("sqlite");
