// The drill-down: all places -> a country (its regions, why the slow ones are slow, its
// slowest pages) -> a region (its slowest pages) -> a page group (its newest page views)
// -> one page view (its timings, vitals and events). At the top it is the Pages view:
// the slowest page groups site-wide. Where you are is in the URL (country, region, page,
// pv) beside the filters, so a link opens the same view.

import { num, query, str, type Row } from './api';
import { chip, type Metric } from './bands';
import { $, el, fillRows } from './dom';
import { countryName } from './map';

export interface Place {
  country: string;
  region: string;
  page: string; // page group
  pv: string; // page view id
}

export interface Scope {
  site: string;
  window: string;
  device: string;
}

const KEYS: (keyof Place)[] = ['country', 'region', 'page', 'pv'];

export function readPlace(): Place {
  const q = new URLSearchParams(location.search);
  return { country: q.get('country') ?? '', region: q.get('region') ?? '', page: q.get('page') ?? '',
    pv: q.get('pv') ?? '' };
}

/** The page's query string with place `p`, the filters' parameters kept. */
function queryAt(p: Place): string {
  const q = new URLSearchParams(location.search);
  for (const key of KEYS) {
    if (p[key]) q.set(key, p[key]);
    else q.delete(key);
  }
  return `?${q}`;
}

/** The place into the URL, the filters' parameters kept. */
export function writePlace(p: Place): void {
  history.replaceState(null, '', queryAt(p));
}

/** A link that moves the drill-down (a real link: it can be opened in a new tab). */
export function go(to: Place, label: string, onMove: (p: Place) => void): HTMLAnchorElement {
  const link = el('a', { href: queryAt(to) }, label);
  link.addEventListener('click', (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    onMove(to);
  });
  return link;
}

const TOP: Place = { country: '', region: '', page: '', pv: '' };

function crumbs(p: Place, onMove: (p: Place) => void): (Node | string)[] {
  const trail: [Place, string][] = [[TOP, 'All places']];
  if (p.country) trail.push([{ ...TOP, country: p.country }, countryName(p.country)]);
  if (p.region) trail.push([{ ...TOP, country: p.country, region: p.region }, p.region]);
  if (p.page) trail.push([{ ...p, pv: '' }, p.page]);
  if (p.pv) trail.push([p, `page view ${p.pv}`]);
  const out: (Node | string)[] = [];
  trail.forEach(([to, label], i) => {
    if (i) out.push(' › ');
    out.push(i === trail.length - 1 ? el('strong', {}, label) : go(to, label, onMove));
  });
  return out;
}

let generation = 0; // the newest drill() call: an older one that ends later draws nothing

/** Render the drill-down for place `p`; `onMove` is called with the place a link asks for. */
export async function drill(s: Scope, p: Place, onMove: (p: Place) => void): Promise<void> {
  const mine = ++generation;
  const base = { site: s.site, window: s.window };
  const parts: HTMLElement[] = [];
  if (p.pv) {
    parts.push(...await pageView(base, p));
  } else if (p.page) {
    parts.push(await pageViews({ ...base, device: s.device }, p, onMove));
  } else {
    if (p.country && !p.region) parts.push(await regions(base, p, onMove));
    parts.push(await pages({ ...base, device: s.device }, p, onMove));
  }
  if (mine !== generation) return;
  $('drill-trail').replaceChildren(...crumbs(p, onMove));
  $('drill-body').replaceChildren(...parts);
  // what is shown, once it is (tests, and whoever inspects the page)
  $('drill').dataset.level = p.pv ? 'pageview' : p.page ? 'page' : p.region ? 'region' : p.country ? 'country' : 'top';
}

function table(id: string, heads: string[], numeric: number[] = []): HTMLTableElement {
  return el('table', { id }, el('thead', {}, el('tr', {}, ...heads.map((h, i) =>
    el('th', numeric.includes(i) ? { class: 'num' } : {}, h)))), el('tbody'));
}

function block(title: string, body: HTMLElement, note = ''): HTMLElement {
  return el('div', { class: 'drill-block' }, el('h3', {}, title, note ? el('small', {}, ` ${note}`) : ''), body);
}

/** A country's regions, flagged ones with the sentence saying why (slow-regions, why=true). */
async function regions(base: Record<string, string>, p: Place, onMove: (p: Place) => void): Promise<HTMLElement> {
  const rows = (await query('slow-regions', { ...base, min_samples: '5', why: 'true' }))
    .filter((r) => str(r, 'country') === p.country && str(r, 'level') === 'region');
  const t = table('drill-regions', ['region', 'p75 LCP', 'p75 INP', 'p75 TTFB', 'page views', 'why'], [4]);
  fillRows(t, rows.map((r) => {
    const why = r.why as { sentence?: string } | null | undefined;
    return el('tr', { 'data-region': str(r, 'region'), 'data-flagged': String(r.flagged === true) },
      el('td', {}, go({ ...TOP, country: p.country, region: str(r, 'region') }, str(r, 'region') || '?', onMove)),
      el('td', { class: 'num' }, chip('lcp', num(r, 'lcp_p75'))),
      el('td', { class: 'num' }, chip('inp', num(r, 'inp_p75'))),
      el('td', { class: 'num' }, chip('ttfb', num(r, 'ttfb_p75'))),
      el('td', { class: 'num' }, num(r, 'samples').toLocaleString('en')),
      el('td', { class: 'why' }, r.flagged === true ? (why?.sentence || `slow by ${(r.slow_metrics as string[] ?? []).join(', ').toUpperCase()}`) : ''));
  }), `no region of ${countryName(p.country)} with 5+ page views in this window`);
  return block(`Regions of ${countryName(p.country)}`, t);
}

/** The slowest page groups of the place (site-wide at the top: the Pages view). */
async function pages(base: Record<string, string>, p: Place, onMove: (p: Place) => void): Promise<HTMLElement> {
  // page views with an LCP (what each p75 is over, as the regions' table counts them): the
  // distinct page views and sessions are left out (counts=false), most of the question's time
  const rows = await query('slow-pages', { ...base, country: p.country, region: p.region, min_samples: '3', limit: '15',
    counts: 'false' });
  const t = table('drill-pages', ['page group', 'p75 LCP', 'p75 INP', 'p75 CLS', 'LCP element', 'page views', 'errors'], [5, 6]);
  fillRows(t, rows.map((r) => el('tr', { 'data-page': str(r, 'page_group') },
    el('td', {}, str(r, 'page_group') ? go({ ...p, page: str(r, 'page_group'), pv: '' }, str(r, 'page_group'), onMove)
      : el('small', {}, '(no page recorded)')),
    el('td', { class: 'num' }, chip('lcp', num(r, 'lcp_p75'))),
    el('td', { class: 'num' }, chip('inp', num(r, 'inp_p75'))),
    el('td', { class: 'num' }, chip('cls', num(r, 'cls_p75'))),
    el('td', { class: 'element', title: str(r, 'lcp_resource') }, str(r, 'lcp_element') || '–',
      str(r, 'lcp_resource') ? el('small', {}, ` ${str(r, 'lcp_resource')}`) : ''),
    el('td', { class: 'num' }, num(r, 'samples').toLocaleString('en')),
    el('td', { class: 'num' }, num(r, 'errors').toLocaleString('en')))),
  'no page group with 3+ page views with an LCP here');
  const where = p.region ? `${p.country}-${p.region}` : p.country ? countryName(p.country) : 'the whole site';
  return block(`Slowest pages in ${where}`, t, '(p75 over the window; the LCP element is the most common one)');
}

/** The newest page views of a page group in the place. */
async function pageViews(base: Record<string, string>, p: Place, onMove: (p: Place) => void): Promise<HTMLElement> {
  const rows = await query('page-views', { ...base, country: p.country, region: p.region, page_group: p.page, limit: '25' });
  const t = table('drill-views', ['started (UTC)', 'page', 'where', 'device', 'LCP', 'INP', 'CLS', 'TTFB', 'errors'], [8]);
  fillRows(t, rows.map((r) => el('tr', { 'data-pv': str(r, 'pageview_id') },
    el('td', {}, go({ ...p, pv: str(r, 'pageview_id') }, str(r, 'started').slice(0, 19), onMove)),
    el('td', {}, str(r, 'page_path')),
    el('td', {}, [str(r, 'country'), str(r, 'region')].filter(Boolean).join('-') || '?'),
    el('td', {}, `${str(r, 'device_class')} · ${str(r, 'browser')}`),
    el('td', { class: 'num' }, chip('lcp', num(r, 'lcp'))),
    el('td', { class: 'num' }, chip('inp', num(r, 'inp'))),
    el('td', { class: 'num' }, chip('cls', num(r, 'cls'))),
    el('td', { class: 'num' }, chip('ttfb', num(r, 'ttfb'))),
    el('td', { class: 'num' }, num(r, 'errors').toLocaleString('en')))),
  'no page view of this page group here in this window');
  return block(`Newest page views of ${p.page}`, t);
}

const TIMINGS: [string, string][] = [['dns', 'DNS'], ['connect', 'connect'], ['tls', 'TLS'],
  ['request', 'request'], ['response', 'response'], ['ttfb', 'TTFB'], ['fcp', 'FCP'], ['lcp', 'LCP'],
  ['dom_interactive', 'DOM interactive'], ['dom_complete', 'DOM complete'], ['load', 'load'], ['inp', 'INP']];

/** One page view: its timings (from whichever flush carried each), vitals, and events. */
async function pageView(base: Record<string, string>, p: Place): Promise<HTMLElement[]> {
  const rows = await query('page-view', { ...base, pageview: p.pv });
  if (!rows.length) return [el('p', { class: 'empty' }, 'this page view has no events in this window')];
  const first = (key: string): Row | undefined => rows.find((r) => r[key] !== null && r[key] !== undefined && r[key] !== '');
  const facts = el('dl', { class: 'facts', id: 'drill-facts' });
  const view = rows[0];
  const fact = (name: string, value: Node | string): void => { facts.append(el('dt', {}, name), el('dd', {}, value)); };
  fact('page', str(view, 'page_path'));
  fact('where', [str(view, 'country'), str(view, 'region')].filter(Boolean).join('-') || 'unknown');
  fact('device', `${str(view, 'device_class')} · ${str(view, 'browser')}`);
  for (const [key, label] of TIMINGS) {
    const row = first(key);
    if (!row) continue;
    const value = num(row, key);
    const shown = key === 'lcp' || key === 'inp' || key === 'ttfb' ? chip(key as Metric, value)
      : el('span', {}, `${Math.round(value).toLocaleString('en')} ms`);
    const d = el('span', { 'data-timing': key }, shown);
    fact(label, d);
  }
  const cls = first('cls');
  if (cls) fact('CLS', chip('cls', num(cls, 'cls')));
  for (const [key, label] of [['lcp_element', 'LCP element'], ['lcp_resource', 'LCP resource'], ['inp_target', 'INP target']]) {
    const row = first(key);
    if (row) fact(label, str(row, key));
  }
  const events = rows.filter((r) => str(r, 'kind') !== 'pageview');
  const t = table('drill-events', ['time (UTC)', 'kind', 'what', 'where']);
  fillRows(t, events.map((r) => el('tr', { 'data-kind': str(r, 'kind') },
    el('td', {}, str(r, 'ts').slice(11, 23)), el('td', {}, str(r, 'kind')),
    el('td', {}, str(r, 'message')), el('td', { class: 'element' }, str(r, 'top_frame')))),
  'no errors, API calls, logins or conversions');
  return [block('Timings and vitals', facts), block('Events', t)];
}
