// The p75 time series, bucketed on the server (GET /v1/query/vitals-timeseries): one
// request per refresh over the whole window, with a bucket chosen from the window so a
// chart has about 60-200 points.

import { num, type Row } from './api';
import { METRICS, type Metric } from './bands';

export interface Point {
  t: number; // bucket start, epoch seconds
  values: Record<Metric, number | null>; // p75; null where the bucket measured nothing
}

export interface Bucket {
  seconds: number;
  label: string; // the query parameter: '10s', '5m', '1h'
}

// bucket lengths to pick from, shortest first; the query accepts 10s to 1d, and its default
// bucket (auto) picks from the same list by the same MAX_POINTS (queries/timeseries.py
// AUTO_BUCKETS; a test checks they agree)
const b = (seconds: number, label: string): Bucket => ({ seconds, label });
const BUCKETS: Bucket[] = [
  b(10, '10s'), b(15, '15s'), b(30, '30s'), b(60, '1m'), b(120, '2m'), b(300, '5m'), b(600, '10m'),
  b(900, '15m'), b(1800, '30m'), b(3600, '1h'), b(7200, '2h'), b(10800, '3h'), b(21600, '6h'),
  b(43200, '12h'), b(86400, '1d'),
];
const MAX_POINTS = 200;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of a window like '15m', '24h' or '7d'; NaN when it is not one. */
export function windowSeconds(window: string): number {
  const match = /^(\d+)([smhd])$/.exec(window.trim());
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]] : NaN;
}

/** The shortest bucket that keeps the window within MAX_POINTS points (15m -> 10s: 90 points,
 * 1h -> 30s, 6h -> 2m, 24h -> 10m, 7d -> 1h). */
export function bucketFor(window: string): Bucket {
  const seconds = windowSeconds(window);
  return BUCKETS.find((b) => seconds / b.seconds <= MAX_POINTS) ?? BUCKETS[BUCKETS.length - 1];
}

/** Query rows (one per bucket with page views, oldest first) -> chart points, with a null
 * point after each run of buckets without page views so the line breaks there. */
export function pointsOf(rows: Row[], bucket: Bucket): Point[] {
  const points: Point[] = [];
  for (const row of rows) {
    const t = num(row, 't');
    const last = points[points.length - 1];
    if (last && t - last.t > bucket.seconds) points.push(gap(last.t + bucket.seconds));
    const values = gap(t).values;
    for (const m of METRICS) if (row[`${m}_p75`] != null) values[m] = num(row, `${m}_p75`);
    points.push({ t, values });
  }
  return points;
}

function gap(t: number): Point {
  return { t, values: { lcp: null, inp: null, cls: null, ttfb: null } };
}
