/**
 * uPlot's legend toggles a series on a mouse click only. These make each series' entry a toggle button a
 * keyboard reaches (Tab) and presses (Enter or Space), whose `aria-pressed` says whether the series is drawn.
 */

/** What the legend needs of a chart: uPlot's own series list and `setSeries`. */
export interface LegendChart {
  series: readonly { show?: boolean }[];
  setSeries: (index: number, options: { show: boolean }) => void;
}

/** The series index of each legend row (uPlot leaves out the time row when the legend is not live). */
function seriesRows(table: HTMLElement, chart: LegendChart): [number, HTMLTableRowElement][] {
  const rows = [...table.querySelectorAll<HTMLTableRowElement>('tbody > tr.u-series')];
  const offset = chart.series.length - rows.length;
  return rows.map((row, i): [number, HTMLTableRowElement] => [i + offset, row]).filter(([index]) => index > 0);
}

/** Sets each entry's `aria-pressed` to whether its series is drawn now. */
export function syncLegendPressed(table: HTMLElement, chart: LegendChart): void {
  for (const [index, row] of seriesRows(table, chart)) {
    row.querySelector('th')?.setAttribute('aria-pressed', String(chart.series[index]?.show !== false));
  }
}

/**
 * Turns the series entries (their `th`, which uPlot listens to for clicks) into toggle buttons. The table
 * itself is only layout, so a screen reader meets a group of buttons, each followed by its value.
 */
export function makeLegendKeyboardToggles(table: HTMLElement, chart: LegendChart): void {
  table.setAttribute('role', 'presentation');
  for (const [index, row] of seriesRows(table, chart)) {
    const entry = row.querySelector('th');
    if (!entry) continue;
    entry.setAttribute('role', 'button');
    // The series' name alone, without the colon uPlot's stylesheet adds after it.
    const name = entry.querySelector('.u-label')?.textContent;
    if (name) entry.setAttribute('aria-label', name);
    entry.tabIndex = 0;
    entry.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' && event.key !== ' ') return;
      // Space would otherwise scroll the page.
      event.preventDefault();
      if (event.repeat) return;
      chart.setSeries(index, { show: chart.series[index]?.show === false });
    });
  }
  syncLegendPressed(table, chart);
}
