// The dashboard: filters in the URL, one refresh that reads every panel from the query
// API, and auto-refresh. Panels fail independently: one refused query leaves the others.

import { alerts, num, query, str, type AlertsReply, type Row } from './api';
import { chip, COLORS, LABELS, METRICS, type Metric } from './bands';
import { type Mark, VitalChart } from './charts';
import { conversionBySpeed } from './conversion';
import { drill, go, readPlace, writePlace, type Place } from './drill';
import { $, el, fillTable, pct } from './dom';
import { countryName, WorldMap, type CountryValue } from './map';
import { money } from './money';
import { bucketFor, pointsOf, windowSeconds } from './series';
import { sharesOf } from './shares';

interface Filters {
  site: string;
  window: string;
  device: string;
  refresh: number; // seconds, 0 = off
  minSamples: string;
}

const DEFAULTS: Filters = { site: '', window: '24h', device: '', refresh: 30, minSamples: '30' };

function readFilters(): Filters {
  const q = new URLSearchParams(location.search);
  return {
    site: q.get('site') ?? DEFAULTS.site,
    window: q.get('window') ?? DEFAULTS.window,
    device: q.get('device') ?? DEFAULTS.device,
    refresh: Number(q.get('refresh') ?? DEFAULTS.refresh) || 0,
    minSamples: q.get('min_samples') ?? DEFAULTS.minSamples,
  };
}

function writeFilters(f: Filters): void {
  const q = new URLSearchParams(location.search); // the drill-down's place stays
  for (const [key, value] of Object.entries({ site: f.site, window: f.window, device: f.device,
    refresh: String(f.refresh), min_samples: f.minSamples })) q.set(key, value);
  history.replaceState(null, '', `?${q}`);
}


/** Map + slow-regions table. */
async function geography(f: Filters, map: WorldMap, move: (p: Place) => void): Promise<void> {
  const base = { site: f.site, window: f.window };
  const byCountry = await query('slow-segments', { ...base, metric: 'lcp', min_samples: '5',
    by: f.device ? 'country,device_class' : 'country' });
  const values = new Map<string, CountryValue>();
  for (const r of byCountry) {
    if (f.device && str(r, 'device_class') !== f.device) continue;
    values.set(str(r, 'country'), { p75: num(r, 'p75'), samples: num(r, 'samples') });
  }
  // slow-regions has no device dimension: with a device filter the map is per country only
  const all = f.device ? [] : await query('slow-regions', { ...base, min_samples: f.minSamples });
  for (const r of all.filter((x) => str(x, 'level') === 'region')) {
    const country = values.get(str(r, 'country'));
    if (country && (!country.worst || num(r, 'lcp_p75') > country.worst.p75)) {
      country.worst = { region: str(r, 'region'), p75: num(r, 'lcp_p75'), samples: num(r, 'samples') };
    }
  }
  map.update(values);
  $('geo-title').textContent = f.device ? `p75 LCP by country (${f.device})`
    : `p75 LCP by country, or its worst region with ${f.minSamples}+ page views`;

  let rows: HTMLTableRowElement[];
  if (f.device) {
    // slow-regions has no device dimension: per country for one device class instead
    $('regions-title').textContent = `Slow countries (${f.device})`;
    rows = byCountry.filter((r) => str(r, 'device_class') === f.device
      && num(r, 'samples') >= Number(f.minSamples)).slice(0, 12).map((r) =>
      el('tr', { 'data-place': str(r, 'country') }, el('td', {}, countryName(str(r, 'country'))),
        el('td', { class: 'num' }, chip('lcp', num(r, 'p75'))), el('td', { class: 'num' }, '–'),
        el('td', { class: 'num' }, '–'), el('td', { class: 'num' }, num(r, 'samples').toLocaleString('en'))));
  } else {
    $('regions-title').textContent = 'Slow regions';
    const withRegions = new Set(all.filter((r) => str(r, 'level') === 'region').map((r) => str(r, 'country')));
    rows = all.filter((r) => str(r, 'level') === 'region' || !withRegions.has(str(r, 'country')))
      .slice(0, 12).map((r) => {
        const place = str(r, 'region') ? `${str(r, 'country')}-${str(r, 'region')}` : str(r, 'country');
        const link = go({ country: str(r, 'country'), region: str(r, 'region'), page: '', pv: '' }, place, move);
        const name = el('td', {}, link, ' ', el('small', {}, countryName(str(r, 'country'))));
        return el('tr', { 'data-place': place, 'data-flagged': String(num(r, 'flagged')) }, name,
          el('td', { class: 'num' }, chip('lcp', num(r, 'lcp_p75'))),
          el('td', { class: 'num' }, chip('inp', num(r, 'inp_p75'))),
          el('td', { class: 'num' }, chip('ttfb', num(r, 'ttfb_p75'))),
          el('td', { class: 'num' }, num(r, 'samples').toLocaleString('en')));
      });
  }
  fillTable('slow-regions', rows, `no segment with ${f.minSamples}+ samples in this window`);
}

function placeOf(r: Row): string {
  const country = str(r, 'country');
  const region = str(r, 'region');
  return region ? `${country}-${region}` : country || 'all traffic';
}

/** Revenue at risk per slow segment (both methods, each named) and from failing logins. */
async function revenue(f: Filters): Promise<void> {
  const rows = await query('revenue-impact', { site: f.site, window: f.window });
  const past = rows.filter((r) => str(r, 'status') !== 'not_slow')
    .sort((a, b) => (num(b, 'revenue_at_risk_per_30d') || 0) - (num(a, 'revenue_at_risk_per_30d') || 0));
  $('money-note').textContent = f.device ? '(all devices: revenue is per session, not per device)' : '';
  fillTable('revenue-impact', past.slice(0, 12).map((r) => {
    const currency = str(r, 'currency');
    const perDay = num(r, 'revenue_at_risk_per_day');
    const cells = Number.isFinite(perDay) && perDay < 0
      ? [el('td', { class: 'reason', colspan: '2' },
        `no loss seen: converts as well as the fast places or better (${money(perDay, currency)} per day)`)]
      : Number.isFinite(perDay)
      ? [el('td', { class: 'num money' }, money(perDay, currency)),
        el('td', { class: 'num money' }, money(num(r, 'revenue_at_risk_per_30d'), currency), ' ',
          el('small', {}, `(${money(num(r, 'low_per_30d'), currency)} – ${money(num(r, 'high_per_30d'), currency)})`))]
      : [el('td', { class: 'reason', colspan: '2' }, str(r, 'reason'))];
    return el('tr', { 'data-place': placeOf(r), 'data-method': str(r, 'method'),
      'data-per-30d': Number.isFinite(perDay) ? String(num(r, 'revenue_at_risk_per_30d')) : '' },
    el('td', {}, placeOf(r)), el('td', { class: 'num' }, chip('lcp', num(r, 'p75_lcp'))),
    el('td', {}, str(r, 'method')), ...cells);
  }), 'no segment past the LCP threshold in this window');
  const blocked = (await query('login-revenue-at-risk', { site: f.site, window: f.window }))
    .filter((r) => r.flagged === true);
  fillTable('login-revenue', blocked.slice(0, 8).map((r) => el('tr', { 'data-place': placeOf(r) },
    el('td', {}, countryName(str(r, 'country')) || placeOf(r)),
    el('td', { class: 'num' }, `${num(r, 'blocked').toLocaleString('en')} of ${num(r, 'login_sessions').toLocaleString('en')}`),
    el('td', { class: 'num money' }, money(num(r, 'excess_revenue_at_risk_per_day'), str(r, 'currency'))))),
  'no place where logins fail more than elsewhere');
}

/** Alert transitions as chart marks (the history's times are UTC text). */
function marksOf(recent: Row[]): Mark[] {
  return recent.map((r) => ({ t: Date.parse(`${str(r, 'at').replace(' ', 'T')}Z`) / 1000, kind: str(r, 'kind'),
    label: `${str(r, 'rule')} ${str(r, 'group_key') || 'all traffic'} at ${str(r, 'at').slice(0, 19)} UTC` }))
    .filter((m) => Number.isFinite(m.t));
}

/** The four p75 charts over the whole window: the site-wide line (one vitals-timeseries
 * request, bucketed on the server), the drill-down's place beside it when one is chosen,
 * and the alerts' firing / resolved moments. */
async function trends(f: Filters, charts: Map<Metric, VitalChart>, place: Place,
  overview: Promise<AlertsReply>): Promise<void> {
  const bucket = bucketFor(f.window);
  const base = { site: f.site, window: f.window, bucket: bucket.label, device: f.device };
  const [rows, placeRows, history] = await Promise.all([
    query('vitals-timeseries', base),
    place.country ? query('vitals-timeseries', { ...base, country: place.country, region: place.region }) : null,
    overview.catch(() => ({ active: [], recent: [] })),
  ]);
  const to = Date.now() / 1000;
  const from = to - windowSeconds(f.window);
  const points = pointsOf(rows, bucket);
  const placePoints = placeRows ? pointsOf(placeRows, bucket) : null;
  const marks = marksOf(history.recent);
  for (const chart of charts.values()) chart.update(points, from, to, placePoints, marks);
  const where = place.region ? `${place.country}-${place.region}` : place.country ? countryName(place.country) : '';
  $('trend-note').textContent = `(p75 of each ${bucket.label} bucket; blue: all traffic`
    + `${where ? `, pink: ${where}` : ''}; lines: alerts firing (solid) and resolved (dashed))`;
}

/** Good / needs improvement / poor shares of each vital over the whole window. */
async function shares(f: Filters): Promise<void> {
  const rows = await query('vitals-ratings', { site: f.site, window: f.window, by: 'device_class' });
  const bars = METRICS.map((m) => {
    const split = sharesOf(rows, m, f.device);
    if (split === null) return el('div', { class: 'share-row' }, m.toUpperCase(), el('span', {}, 'no data'), '');
    const [good, ni, poor, n] = split;
    const part = (b: 'good' | 'ni' | 'poor', x: number): HTMLElement =>
      el('span', { class: b, style: `width:${(100 * x).toFixed(2)}%`, title: `${LABELS[b]}: ${pct(x)}` },
        x >= 0.08 ? pct(x) : '');
    return el('div', { class: 'share-row', 'data-metric': m }, el('strong', {}, m.toUpperCase()),
      el('div', { class: 'bar', role: 'img',
        'aria-label': `${m}: ${pct(good)} good, ${pct(ni)} needs improvement, ${pct(poor)} poor` },
      part('good', good), part('ni', ni), part('poor', poor)),
      el('small', {}, `${n.toLocaleString('en')} page views`));
  });
  $('share-bars').replaceChildren(...bars);
}

async function logins(f: Filters): Promise<void> {
  const rows = (await query('failing-logins', { site: f.site, window: f.window,
    by: f.device ? 'country,device_class' : 'country' }))
    .filter((r) => !f.device || str(r, 'device_class') === f.device);
  fillTable('failing-logins', rows.slice(0, 10).map((r) => {
    const rate = num(r, 'failure_rate');
    const baseline = num(r, 'baseline_rate');
    const bar = el('div', { class: 'rate', title: `${pct(rate)} failed; rest of site ${pct(baseline)}` },
      el('b', { style: `width:${(100 * rate).toFixed(1)}%` }),
      el('i', { style: `left:${(100 * (Number.isFinite(baseline) ? baseline : 0)).toFixed(1)}%` }));
    return el('tr', { 'data-country': str(r, 'country'), 'data-flagged': String(r.flagged === true) },
      el('td', {}, countryName(str(r, 'country'))),
      el('td', {}, bar, el('small', {}, `${pct(rate)} vs ${Number.isFinite(baseline) ? pct(baseline) : '–'}`)),
      el('td', { class: 'num' }, num(r, 'attempts').toLocaleString('en')),
      el('td', {}, r.flagged === true ? el('span', { class: 'flag' }, 'flagged') : ''));
  }), 'no logins in this window');
}

async function errors(f: Filters): Promise<void> {
  const rows = await query('top-errors', { site: f.site, window: f.window, limit: '8' });
  // the page groups and browsers a fingerprint was seen on (up to 5 each)
  const names = (r: Row, key: string): string => (Array.isArray(r[key]) ? (r[key] as string[]) : [])
    .map((x) => x || '(no page)').join(', ');
  fillTable('top-errors', rows.map((r: Row) => el('tr', { 'data-fingerprint': str(r, 'fingerprint') },
    el('td', {}, str(r, 'message').slice(0, 120),
      str(r, 'top_frame') ? el('small', { class: 'frame' }, str(r, 'top_frame')) : ''),
    el('td', { class: 'where' }, names(r, 'page_groups'), el('small', {}, names(r, 'browsers'))),
    el('td', { class: 'num' }, num(r, 'pageviews').toLocaleString('en')),
    el('td', { class: 'num' }, num(r, 'sessions').toLocaleString('en')),
    el('td', {}, str(r, 'last_seen')))), 'no JS errors in this window');
}

async function activeAlerts(overview: Promise<AlertsReply>): Promise<void> {
  const { active } = await overview;
  fillTable('active-alerts', active.map((r) => el('tr', {},
    el('td', {}, str(r, 'rule')), el('td', {}, str(r, 'group_key') || 'all traffic'),
    el('td', { class: `state-${str(r, 'state')}` }, str(r, 'state')),
    // the value in words and units ('p75 LCP 4,920 ms > 4,000 ms') when the collector knows the rule
    el('td', { class: str(r, 'text') ? '' : 'num' }, str(r, 'text')
      || (Number.isFinite(num(r, 'value')) ? num(r, 'value').toLocaleString('en', { maximumSignificantDigits: 4 }) : '–')),
    el('td', { class: 'num' }, num(r, 'samples').toLocaleString('en')))), 'no active alerts');
}

/** The site picker: the sites seen in the window, busiest first (empty = all sites).
 * Asked after the panels: counting a day's distinct page views takes ~1 s on a busy store,
 * and the embedded store answers one question at a time, so asked beside them it would
 * hold every panel back. It is asked again only when the window changes or SITES_EVERY_MS
 * has passed, not on every refresh: the list changes seldom, and the ~1 s would hold the
 * store between refreshes (a drill-down click waits behind it). `data-sites` counts the
 * lists filled. */
const SITES_EVERY_MS = 5 * 60_000;
async function sitesSeen(f: Filters): Promise<void> {
  const rows = await query('sites', { window: f.window });
  $('site-list').replaceChildren(...rows.map((r) => el('option', { value: str(r, 'site'),
    label: `${num(r, 'pageviews').toLocaleString('en')} page views` })));
  $('f-site').title = rows.length ? `sites seen in this window: ${rows.map((r) => str(r, 'site')).join(', ')}`
    : 'no site sent data in this window';
  document.body.dataset.sites = String(Number(document.body.dataset.sites ?? 0) + 1);
}

/** GeoIP state from /healthz: a banner when there is no database (every country is
 * unknown), DB-IP's credit when its free database is the one in use (CC BY 4.0). */
async function geoipState(): Promise<void> {
  const reply = await fetch('healthz');
  if (!reply.ok) return;
  const health = (await reply.json()) as { geoip?: string; geoip_database?: string };
  const banner = $('geo-banner');
  banner.hidden = health.geoip !== 'missing';
  banner.textContent = banner.hidden ? '' : 'No GeoIP database: every visitor\'s country is unknown, so the '
    + 'map and the per-country panels stay empty. Run `rum geoip download` (free DB-IP City Lite) '
    + 'and restart the collector.';
  $('credits').replaceChildren(...((health.geoip_database ?? '').startsWith('DBIP')
    ? [el('a', { href: 'https://db-ip.com' }, 'IP geolocation by DB-IP'), ' (CC BY 4.0)'] : []));
}

function legend(): void {
  $('map-legend').replaceChildren(...(['good', 'ni', 'poor'] as const).map((b) =>
    el('li', {}, el('i', { style: `background:${COLORS[b]}` }),
      `${LABELS[b]} (${b === 'good' ? '≤ 2.5 s' : b === 'ni' ? '2.5–4 s' : '> 4 s'})`)),
  el('li', {}, el('i', { style: `background:${COLORS.none}` }), 'no data'));
}

function start(): void {
  let f = readFilters();
  const form = { site: $<HTMLInputElement>('f-site'), window: $<HTMLSelectElement>('f-window'),
    device: $<HTMLSelectElement>('f-device'), refresh: $<HTMLSelectElement>('f-refresh') };
  form.site.value = f.site;
  form.window.value = f.window;
  form.device.value = f.device;
  if (![...form.refresh.options].some((o) => o.value === String(f.refresh))) {
    form.refresh.append(el('option', { value: String(f.refresh) }, `${f.refresh} s`));
  }
  form.refresh.value = String(f.refresh);
  legend();
  let place = readPlace();
  const scope = (): { site: string; window: string; device: string } =>
    ({ site: f.site, window: f.window, device: f.device });
  const showDrill = async (): Promise<void> => {
    await drill(scope(), place, move);
    document.body.dataset.drills = String(Number(document.body.dataset.drills ?? 0) + 1);
  };
  const move = (p: Place): void => {
    place = p;
    writePlace(p);
    void showDrill().catch((e: unknown) => { $('status').textContent = `drill-down failed: ${String(e)}`; });
    void trends(f, charts, place, alerts()).catch(() => undefined); // the place's line beside the site's
    $('drill').scrollIntoView({ behavior: 'smooth', block: 'start' });
  };
  const map = new WorldMap($('map'), (country) => move({ country, region: '', page: '', pv: '' }));
  const charts = new Map(METRICS.map((m) => [m, new VitalChart($(`chart-${m}`), m)] as const));
  let timer: number | undefined;
  let running = false;
  let sitesAsked = { window: '', at: 0 }; // the site picker's last question (see sitesSeen)

  const refresh = async (): Promise<void> => {
    window.clearTimeout(timer);
    if (running) return;
    running = true;
    const status = $('status');
    const overview = alerts(); // one request serves the charts' marks and the alerts panel
    const results = await Promise.allSettled([geoipState(), geography(f, map, move), showDrill(),
      revenue(f), conversionBySpeed(f), trends(f, charts, place, overview), shares(f), logins(f), errors(f),
      activeAlerts(overview)]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    status.className = failed.length ? 'error' : '';
    status.textContent = failed.length ? `some panels failed: ${String(failed[0].reason?.message ?? failed[0].reason)}`
      : `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
    running = false;
    if (f.window !== sitesAsked.window || Date.now() - sitesAsked.at >= SITES_EVERY_MS) {
      sitesAsked = { window: f.window, at: Date.now() };
      void sitesSeen(f).catch(() => { sitesAsked = { window: '', at: 0 }; }); // after the panels (see sitesSeen)
    }
    if (f.refresh > 0) timer = window.setTimeout(refresh, f.refresh * 1000);
  };

  const changed = (): void => {
    if (!form.site.checkValidity()) return;
    f = { ...f, site: form.site.value.trim(), window: form.window.value, device: form.device.value,
      refresh: Number(form.refresh.value) };
    writeFilters(f);
    void refresh();
  };
  for (const input of Object.values(form)) input.addEventListener('change', changed);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  void refresh();
}

start();
