import { afterEach, describe, expect, it } from 'vitest';
import { makeLegendKeyboardToggles, syncLegendPressed, type LegendChart } from '../src/components/charts/legend';

/** A legend table as uPlot builds it: a time row, then one row per series (label `th`, value `td`). */
function legendTable(labels: string[]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'u-legend';
  const body = table.createTBody();
  for (const label of ['Time', ...labels]) {
    const row = body.insertRow();
    row.className = 'u-series';
    const th = document.createElement('th');
    const name = document.createElement('div');
    name.className = 'u-label';
    name.textContent = label;
    th.append(document.createElement('div'), name);
    row.appendChild(th);
    row.insertCell().textContent = '–';
  }
  document.body.appendChild(table);
  return table;
}

/** uPlot's series list and setSeries, recording which series were toggled, with its setSeries hook. */
function fakeChart(shown: boolean[], onSetSeries: (chart: LegendChart) => void = () => {}): LegendChart & { calls: string[] } {
  const chart = {
    series: [{}, ...shown.map((show) => ({ show }))],
    calls: [] as string[],
    setSeries(index: number, options: { show: boolean }) {
      chart.series[index] = { show: options.show };
      chart.calls.push(`${index}:${options.show}`);
      onSetSeries(chart);
    },
  };
  return chart;
}

function entry(table: HTMLTableElement, label: string): HTMLElement {
  const found = [...table.querySelectorAll('th')].find((th) => th.textContent === label);
  if (!found) throw new Error(`no legend entry ${label}`);
  return found;
}

function press(element: HTMLElement, key: string, repeat = false): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, repeat, bubbles: true, cancelable: true });
  element.dispatchEvent(event);
  return event;
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('chart legend from the keyboard', () => {
  it('makes every series entry, and not the time, a focusable toggle button saying whether it is drawn', () => {
    const table = legendTable(['GPU 0', 'GPU 1']);
    makeLegendKeyboardToggles(table, fakeChart([true, false]));
    expect(entry(table, 'Time').getAttribute('role')).toBeNull();
    expect(entry(table, 'Time').tabIndex).toBe(-1);
    for (const label of ['GPU 0', 'GPU 1']) {
      expect(entry(table, label).getAttribute('role')).toBe('button');
      expect(entry(table, label).tabIndex).toBe(0);
    }
    expect(entry(table, 'GPU 0').getAttribute('aria-pressed')).toBe('true');
    expect(entry(table, 'GPU 1').getAttribute('aria-pressed')).toBe('false');
    expect(entry(table, 'GPU 1').getAttribute('aria-label')).toBe('GPU 1');
    // The table is only layout around the buttons.
    expect(table.getAttribute('role')).toBe('presentation');
  });

  it('toggles the series with Space and Enter, without scrolling the page, and ignores other keys', () => {
    const table = legendTable(['GPU 0', 'GPU 1', 'CPU']);
    const chart = fakeChart([true, true, true]);
    makeLegendKeyboardToggles(table, chart);
    const space = press(entry(table, 'GPU 1'), ' ');
    expect(space.defaultPrevented).toBe(true);
    expect(chart.calls).toEqual(['2:false']);
    press(entry(table, 'GPU 1'), 'Enter');
    expect(chart.calls).toEqual(['2:false', '2:true']);
    press(entry(table, 'CPU'), 'a');
    press(entry(table, 'CPU'), ' ', true);
    expect(chart.calls).toEqual(['2:false', '2:true']);
  });

  it('keeps aria-pressed in step with the series however it changed (the setSeries hook syncs it)', () => {
    const table = legendTable(['GPU 0']);
    const chart = fakeChart([false], (changed) => syncLegendPressed(table, changed));
    makeLegendKeyboardToggles(table, chart);
    expect(entry(table, 'GPU 0').getAttribute('aria-pressed')).toBe('false');
    press(entry(table, 'GPU 0'), 'Enter');
    expect(entry(table, 'GPU 0').getAttribute('aria-pressed')).toBe('true');
    // Hidden from another chart's legend, or by the remembered choice after a reload.
    chart.setSeries(1, { show: false });
    expect(entry(table, 'GPU 0').getAttribute('aria-pressed')).toBe('false');
  });
});
