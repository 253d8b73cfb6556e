/** The PromQL of the chart's dashboard and PrometheusRule, as helm renders them. */
import { one, render, type Json } from './helm.js';

/** One query and where it comes from, for messages. */
export interface Query {
  where: string;
  expr: string;
}

/** Grafana's variables, as Grafana would substitute them. */
export function concrete(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1h')
    .replaceAll('$namespace', '.*');
}

/** Every PromQL query of the rendered dashboard, with Grafana's variables substituted. */
export function dashboardQueries(): Query[] {
  const cm = one(
    render('v3', { set: ['grafanaDashboard.enabled=true'] }),
    'ConfigMap',
    'gg-gloo-guard-dashboard',
  );
  const dash = JSON.parse(cm.data['gloo-guard.json'] as string);
  return (dash.panels as Json[]).flatMap((p: Json) =>
    (p.targets as Json[]).map((t: Json) => ({
      where: `panel "${p.title}" ${t.refId}`,
      expr: concrete(t.expr),
    })),
  );
}

/** The `spec` of the rendered PrometheusRule: a Prometheus rules file. */
export function ruleGroups(): Json {
  return one(render('v3', { set: ['prometheusRule.enabled=true'] }), 'PrometheusRule').spec;
}

/** Every alert expression of the rendered PrometheusRule. */
export function alertQueries(): Query[] {
  return (ruleGroups().groups as Json[]).flatMap((g: Json) =>
    (g.rules as Json[]).map((r: Json) => ({ where: `alert ${r.alert}`, expr: r.expr as string })),
  );
}
