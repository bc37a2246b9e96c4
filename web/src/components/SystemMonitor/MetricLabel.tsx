import { useMetricCatalogue } from '../../stores/metricCatalogue';

/** A reading's label and help as the server's metric catalogue declares them (registry key). */
export function MetricLabel({ metricKey }: { metricKey: string }) {
  const entry = useMetricCatalogue((state) => state.byKey.get(metricKey));
  return <span title={entry?.help}>{entry?.label ?? metricKey}</span>;
}
