/** The dashboard's reads of `/admin/dashboard/*`, signed in by the session cookie (same origin). */
import { json } from "../api/client.js";
import type { DashboardHistory, DashboardRange } from "../../../wire/dashboard.js";
import { DashboardHistorySchema, DashboardSummarySchema, type Summary } from "./dashboard-schemas.js";

export const getHistory = (range: DashboardRange): Promise<DashboardHistory> => json(DashboardHistorySchema, "GET", `/admin/dashboard/history?range=${range}`);
export const getSummary = (): Promise<Summary> => json(DashboardSummarySchema, "GET", "/admin/dashboard/summary");
