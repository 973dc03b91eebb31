// One small uPlot chart per Web Vital: the p75 series and its two threshold lines.

import uPlot from 'uplot';
import { COLORS, format, THRESHOLDS, type Metric } from './bands';
import type { Point } from './series';

const HEIGHT = 170;

export class VitalChart {
  private plot: uPlot;

  constructor(private container: HTMLElement, private metric: Metric) {
    const poor = THRESHOLDS[metric][1];
    const line = (label: string, color: string, dash: number[] = []): uPlot.Series =>
      ({ label, stroke: color, width: 1.5, dash, points: { show: false } });
    this.plot = new uPlot({
      width: this.width(), height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, poor * 1.15)] } },
      axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((v) => metric === 'cls' ? v.toFixed(2) : `${v}`) }],
      series: [
        {},
        { label: `p75 ${metric.toUpperCase()}`, stroke: '#0072b2', width: 2, spanGaps: false,
          value: (_u, v) => format(metric, v), points: { show: true, size: 5, fill: '#0072b2' } },
        line('good', COLORS.good, [6, 4]),
        line('poor', COLORS.poor, [6, 4]),
      ],
    }, [[], [], [], []], container);
    this.container.dataset.points = '0';
    window.addEventListener('resize', () => this.plot.setSize({ width: this.width(), height: HEIGHT }));
  }

  private width(): number {
    return Math.max(260, this.container.clientWidth || 300);
  }

  /** Redraw from the window's points. */
  update(points: Point[]): void {
    const [good, poor] = THRESHOLDS[this.metric];
    const xs = points.map((p) => p.t);
    const ys = points.map((p) => p.values[this.metric]);
    this.plot.setData([xs, ys, xs.map(() => good), xs.map(() => poor)]);
    // what is drawn, readable without the canvas (tests, and whoever inspects the page)
    const drawn = points.filter((p) => p.values[this.metric] !== null).map((p) => [p.t, p.values[this.metric]]);
    this.container.dataset.points = String(drawn.length);
    this.container.dataset.series = JSON.stringify(drawn);
  }
}
