// Time series built in the browser from what the query API offers today: the API has no
// time-bucketed query, so on every refresh the dashboard asks for the p75 over the last
// `point` window (e.g. 5m) and appends it to a series kept in sessionStorage (a reload
// keeps the history). The wanted server-side query is described in docs/demo.md.

import { num, str, type Row } from './api';
import type { Metric } from './bands';

export interface Point {
  t: number; // epoch seconds
  values: Partial<Record<Metric, number | null>>;
}

const MAX_POINTS = 720;

/** Segment rows (p50/p75/p95, samples) -> one p75: the row of `device`, or all rows mixed. */
export function p75Of(rows: Row[], device: string): number | null {
  if (device) {
    const row = rows.find((r) => str(r, 'device_class') === device);
    return row ? num(row, 'p75') : null;
  }
  if (rows.length === 0) return null;
  if (rows.length === 1) return num(rows[0], 'p75');
  return mixtureQuantile(rows, 0.75);
}

// Each segment's distribution is taken as piecewise linear through its p50, p75 and p95
// (from 0 below, to p95 + (p95 - p75) above); the mixture's quantile is found by bisection.
// An approximation: exact p75 over all devices needs a query without segmentation.
function mixtureQuantile(rows: Row[], q: number): number {
  const parts = rows.map((r) => ({
    w: num(r, 'samples'),
    knots: [[0, 0], [num(r, 'p50'), 0.5], [num(r, 'p75'), 0.75], [num(r, 'p95'), 0.95],
      [num(r, 'p95') + Math.max(0, num(r, 'p95') - num(r, 'p75')), 1]] as [number, number][],
  }));
  const total = parts.reduce((s, p) => s + p.w, 0);
  const cdf = (x: number): number => parts.reduce((s, p) => s + p.w * at(p.knots, x), 0) / total;
  let lo = 0;
  let hi = Math.max(...parts.map((p) => p.knots[4][0]));
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

function at(knots: [number, number][], x: number): number {
  if (x <= knots[0][0]) return 0;
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i];
    const [x0, y0] = knots[i - 1];
    if (x <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return 1;
}

/** Good / needs improvement / poor shares over all rows, weighted by samples (exact). */
export function sharesOf(rows: Row[], device: string): [number, number, number, number] | null {
  const chosen = device ? rows.filter((r) => str(r, 'device_class') === device) : rows;
  const n = chosen.reduce((s, r) => s + num(r, 'samples'), 0);
  if (n === 0) return null;
  const share = (key: string): number => chosen.reduce((s, r) => s + num(r, key) * num(r, 'samples'), 0) / n;
  return [share('good'), share('needs_improvement'), share('poor'), n];
}

/** The stored series for one filter combination. */
export class SeriesStore {
  constructor(private key: string) {}

  load(): Point[] {
    try {
      return JSON.parse(sessionStorage.getItem(this.key) ?? '[]') as Point[];
    } catch {
      return [];
    }
  }

  append(point: Point): Point[] {
    const points = [...this.load(), point].slice(-MAX_POINTS);
    try {
      sessionStorage.setItem(this.key, JSON.stringify(points));
    } catch {
      // storage full or disabled: the series lives for this page only
    }
    return points;
  }
}
