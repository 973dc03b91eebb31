// Conversion by speed (as SpeedCurve shows it): per LCP bucket of the sessions' first page
// view, the share of sessions that converted (bar, with its 95% interval) and the revenue
// per session under it. The bucket that converts best is marked; the buckets past it show
// what slowness costs.

import { num, query, str } from './api';
import { band, COLORS } from './bands';
import { el } from './dom';
import { money } from './money';

export async function conversionBySpeed(f: { site: string; window: string }): Promise<void> {
  const rows = (await query('conversion-by-speed', { site: f.site, window: f.window }))
    .filter((r) => num(r, 'sessions') > 0);
  const chart = document.getElementById('speed-bars') as HTMLElement;
  if (!rows.length || rows.every((r) => !num(r, 'converted'))) {
    chart.replaceChildren(el('p', { class: 'empty' }, rows.length
      ? 'no session converted in this window: send rum(\'conversion\', {value, currency}) from the order '
        + 'confirmation page (js-beacon/README.md) to see how speed moves conversion'
      : 'no sessions with an LCP in this window'));
    return;
  }
  const top = Math.max(...rows.map((r) => num(r, 'ci_high') || num(r, 'conversion_rate') || 0), 0.01);
  const pctOf = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
  chart.replaceChildren(...rows.map((r) => {
    const rate = num(r, 'conversion_rate');
    const low = num(r, 'ci_low');
    const high = num(r, 'ci_high');
    const mid = (num(r, 'lcp_from_ms') + Math.min(num(r, 'lcp_to_ms') || 60000, 60000)) / 2;
    const colour = COLORS[band('lcp', mid)];
    const h = (x: number): string => `${(100 * x / top).toFixed(1)}%`;
    const best = r.optimal === true;
    return el('div', { class: `speed-col${best ? ' best' : ''}`, 'data-bucket': str(r, 'bucket'),
      'data-rate': String(rate), 'data-sessions': String(num(r, 'sessions')),
      title: `${str(r, 'bucket')}: ${pctOf(rate)} of ${num(r, 'sessions').toLocaleString('en')} sessions converted`
        + (Number.isFinite(low) ? ` (95%: ${pctOf(low)}–${pctOf(high)})` : '') },
    el('strong', {}, Number.isFinite(rate) ? pctOf(rate) : '–'),
    el('div', { class: 'speed-plot' },
      el('span', { class: 'speed-bar', style: `height:${h(rate || 0)};background:${colour}` }),
      Number.isFinite(low) ? el('i', { class: 'speed-ci', style: `bottom:${h(low)};height:${h(high - low)}` }) : ''),
    el('b', {}, str(r, 'bucket')),
    el('small', {}, `${money(num(r, 'revenue_per_session'), str(r, 'currency'))} / session`),
    el('small', {}, `${num(r, 'sessions').toLocaleString('en')} sessions${best ? ' · best' : ''}`));
  }));
}
