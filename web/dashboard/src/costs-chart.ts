import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ResultOf } from '../../../libs/client/src/contract';
import { usd } from './format';

export type HourlyCosts = ResultOf<'cost:summary'>;

/** What completions cost per hour (UTC) over the period asked for, as bars. */
export function CostsChart({ costs }: { costs: HourlyCosts | undefined }) {
  const target = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    if (!costs || !target.current) return;
    const hours = costs.rows.map((row) => Date.parse(row.key ?? '') / 1000);
    const dollars = costs.rows.map((row) => row.cost_usd);
    const data: uPlot.AlignedData = [hours, dollars];
    if (chart.current) {
      chart.current.setData(data);
      return;
    }
    chart.current = new uPlot(
      {
        width: target.current.clientWidth || 480,
        height: 180,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{}, { values: (_plot, ticks) => ticks.map((tick) => usd(tick)) }],
        series: [{}, { label: 'USD', stroke: '#4c6ef5', fill: 'rgba(76, 110, 245, 0.25)', paths: uPlot.paths.bars?.({ size: [0.8, 40] }), points: { show: false } }],
      },
      data,
      target.current,
    );
  }, [costs]);
  useEffect(() => () => chart.current?.destroy(), []);
  return html`<section class="panel costs" data-testid="costs">
    <h2>Costs <span class="count">${costs ? `${usd(costs.totals.cost_usd)} in the last 48 h` : ''}</span></h2>
    <div ref=${target} class="chart"></div>
    ${costs && costs.rows.length === 0 && html`<p class="muted">No spending in the last 48 hours.</p>`}
  </section>`;
}
