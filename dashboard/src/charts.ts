// One small uPlot chart per Web Vital: the p75 series, the drill-down's place overlaid when
// one is chosen, its two threshold lines, and the alerts' firing and resolved moments. The
// time axis spans the selected window, whatever part of it has data.

import uPlot from 'uplot';
import { COLORS, format, THRESHOLDS, type Metric } from './bands';
import type { Point } from './series';

const HEIGHT = 170;

/** An alert transition drawn on the charts: when (epoch s), what, and a label. */
export interface Mark {
  t: number;
  kind: string; // 'firing' | 'resolved'
  label: string;
}

export class VitalChart {
  private plot: uPlot;
  // until the first update: the last day (never 1970)
  private to = Date.now() / 1000;
  private from = this.to - 86400;
  private marks: Mark[] = [];

  constructor(private container: HTMLElement, private metric: Metric) {
    const poor = THRESHOLDS[metric][1];
    const line = (label: string, color: string, dash: number[] = []): uPlot.Series =>
      ({ label, stroke: color, width: 1.5, dash, points: { show: false } });
    this.plot = new uPlot({
      width: this.width(), height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => [this.from, this.to] },
        y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, poor * 1.15)] },
      },
      axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((v) => metric === 'cls' ? v.toFixed(2) : `${v}`) }],
      series: [
        {},
        { label: `p75 ${metric.toUpperCase()}`, stroke: '#0072b2', width: 2, spanGaps: false,
          value: (_u, v) => format(metric, v), points: { show: true, size: 5, fill: '#0072b2' } },
        { label: 'place', stroke: '#cc79a7', width: 2, spanGaps: false,
          value: (_u, v) => format(metric, v), points: { show: true, size: 4, fill: '#cc79a7' } },
        line('good', COLORS.good, [6, 4]),
        line('poor', COLORS.poor, [6, 4]),
      ],
      hooks: { draw: [(u) => this.drawMarks(u)] },
    }, [[], [], [], [], []], container);
    this.container.dataset.points = '0';
    window.addEventListener('resize', () => this.plot.setSize({ width: this.width(), height: HEIGHT }));
  }

  private width(): number {
    return Math.max(260, this.container.clientWidth || 300);
  }

  /** A vertical line at each alert transition inside the window: red firing, green resolved. */
  private drawMarks(u: uPlot): void {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const mark of this.marks) {
      const x = Math.round(u.valToPos(mark.t, 'x', true));
      ctx.strokeStyle = mark.kind === 'firing' ? COLORS.poor : COLORS.good;
      ctx.setLineDash(mark.kind === 'firing' ? [] : [4 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Redraw over [from, to] (epoch s): the site-wide points, the place's (or none), the marks. */
  update(points: Point[], from: number, to: number, place: Point[] | null = null, marks: Mark[] = []): void {
    const [good, poor] = THRESHOLDS[this.metric];
    this.from = from;
    this.to = to;
    this.marks = marks.filter((m) => m.t >= from && m.t <= to);
    // one x axis for both series: the union of their bucket starts
    // (and the window's edges, so the threshold lines span the window)
    const xs = [...new Set([from, ...points.map((p) => p.t), ...(place ?? []).map((p) => p.t), to])]
      .sort((a, b) => a - b);
    const at = (series: Point[]): (number | null)[] => {
      const byT = new Map(series.map((p) => [p.t, p.values[this.metric]]));
      return xs.map((t) => byT.get(t) ?? null);
    };
    this.plot.setData([xs, at(points), place ? at(place) : xs.map(() => null),
      xs.map(() => good), xs.map(() => poor)]);
    // what is drawn, readable without the canvas (tests, and whoever inspects the page)
    const drawn = points.filter((p) => p.values[this.metric] !== null).map((p) => [p.t, p.values[this.metric]]);
    this.container.dataset.points = String(drawn.length);
    this.container.dataset.series = JSON.stringify(drawn);
    this.container.dataset.place = JSON.stringify((place ?? []).filter((p) => p.values[this.metric] !== null)
      .map((p) => [p.t, p.values[this.metric]]));
    this.container.dataset.range = JSON.stringify([from, to]);
    this.container.dataset.marks = JSON.stringify(this.marks.map((m) => [m.t, m.kind]));
    this.container.title = this.marks.map((m) => `${m.kind}: ${m.label}`).join('\n');
  }
}
