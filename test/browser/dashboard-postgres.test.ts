import { describeDashboardInBrowser } from "./suite.ts";

describeDashboardInBrowser("postgres");
