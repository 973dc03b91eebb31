// Core Web Vitals bands: thresholds as constants (web.dev), colours from the Okabe-Ito
// palette (told apart with the common colour-vision deficiencies), always paired with a
// text label so colour is never the only cue.

import { el } from './dom';

export type Metric = 'lcp' | 'inp' | 'cls' | 'ttfb';
export type Band = 'good' | 'ni' | 'poor';

export const METRICS: Metric[] = ['lcp', 'inp', 'cls', 'ttfb'];
export const THRESHOLDS: Record<Metric, [number, number]> = {
  lcp: [2500, 4000], inp: [200, 500], cls: [0.1, 0.25], ttfb: [800, 1800],
};
export const COLORS: Record<Band | 'none', string> = {
  good: '#009e73', ni: '#e69f00', poor: '#d55e00', none: '#d9d9d9',
};
export const LABELS: Record<Band, string> = { good: 'good', ni: 'needs improvement', poor: 'poor' };

/** The band of a value of `metric`. */
export function band(metric: Metric, value: number): Band {
  const [good, poor] = THRESHOLDS[metric];
  return value <= good ? 'good' : value <= poor ? 'ni' : 'poor';
}

/** A value as a coloured chip of its band, the band named in its title ('–' without one). */
export function chip(metric: Metric, value: number): HTMLElement {
  if (!Number.isFinite(value)) return el('span', {}, '–');
  const b = band(metric, value);
  return el('span', { class: `chip ${b}`, title: LABELS[b] }, format(metric, value));
}

/** '2,480 ms' or '0.12' (CLS is unitless). */
export function format(metric: Metric, value: number): string {
  if (!Number.isFinite(value)) return '–';
  return metric === 'cls' ? value.toFixed(3) : `${Math.round(value).toLocaleString('en')} ms`;
}
