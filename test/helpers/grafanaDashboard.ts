/** The Grafana dashboard shipped in examples/grafana/ and the PromQL of its panels. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './engineHelpers';

export interface DashboardPanel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}

export const DASHBOARD_FILE = path.join(REPO_ROOT, 'examples', 'grafana', 'trajlab-dashboard.json');

/** The dashboard JSON as shipped. */
export function readDashboard(): { panels: DashboardPanel[] } {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
}

/** Every expr of the dashboard's panels (rows' nested panels included), as written, with the panel's title. */
export function dashboardExprs(dashboard: { panels: DashboardPanel[] }): { title: string; expr: string }[] {
  const exprs: { title: string; expr: string }[] = [];
  const visit = (panels: DashboardPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) exprs.push({ title: p.title, expr: t.expr });
      if (p.panels) visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return exprs;
}

/** `expr` with Grafana's variables replaced as a dashboard would (every instance, a 1 min rate window, a 5 min range), for Prometheus' query API. */
export function concreteExpr(expr: string): string {
  return expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m');
}
