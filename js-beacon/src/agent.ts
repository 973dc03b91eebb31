import type { Envelope, Options, RumEvent } from './types.js';
import { DEFAULT_API_ERROR_STATUS, MAX_EVENTS } from './lib/constants.js';
import { createErrorLog } from './lib/createErrorLog.js';
import { createRageClickDetector } from './lib/createRageClickDetector.js';
import { getSession, type KeyValue } from './lib/getSession.js';
import type { CallInfo } from './lib/observeRequests.js';
import { randomId } from './lib/randomId.js';
import { scrubUrl } from './lib/scrubUrl.js';
import { trimEnvelope } from './lib/trimEnvelope.js';

/** Everything the agent needs from the browser; tests pass their own. */
export interface Env {
  /** Epoch milliseconds (a clock tests can replace). */
  now(): number;
  send(url: string, body: string): boolean;
  storage?: KeyValue;
  random(): number;
  href(): string;
  referrer(): string;
  /** navigator.globalPrivacyControl */
  gpc(): boolean;
  /** Navigation timing of the document, or just {type} for a soft navigation / restore. */
  nav(type?: string): Record<string, number | string> | undefined;
  net(): Record<string, number | string | boolean> | undefined;
  sha256?(text: string): Promise<string>;
}

/** The agent's state machine: one page view at a time, flushed as envelopes. */
export function createAgent(env: Env) {
  let opts: Options | undefined;
  let allowed = true;
  let sampled = false;
  let sid = '';
  let user = '';
  let pid = randomId();
  let seq = 0;
  let url = env.href();
  let firstFlushDone = false;
  let navType: string | undefined; // undefined: the document's own navigation
  let vitals: Record<string, number> = {};
  let attribution: Record<string, string> = {};
  let events: RumEvent[] = [];
  const perf = { long_tasks: 0, tbt: 0, rage_clicks: 0 };
  let perfDirty = false;
  const errors = createErrorLog();
  const rage = createRageClickDetector();

  function push(event: RumEvent): void {
    events.push(event);
    if (events.length > MAX_EVENTS) events.shift();
  }

  function setUser(id: unknown): void {
    if (typeof id !== 'string' || !id) return;
    if (opts && opts.hashUser && env.sha256) {
      env.sha256(id).then((h) => { user = h; }, () => undefined);
    } else {
      user = id.slice(0, 128);
    }
  }

  /** rum('name', ...args): the public API. */
  function call(name: unknown, a?: unknown, b?: unknown): void {
    const now = env.now();
    if (name === 'init') {
      const o = a as Options;
      if (!o || typeof o.site !== 'string' || typeof o.endpoint !== 'string') return;
      opts = o;
      const rate = typeof o.sampleRate === 'number' && o.sampleRate > 0 && o.sampleRate <= 1
        ? o.sampleRate : 1;
      const session = getSession(env.storage, rate, env.random);
      sid = session.sid;
      sampled = session.sampled;
      if (o.respectGPC && env.gpc()) allowed = false;
      setUser(o.user);
    } else if (name === 'login') {
      const o = (a || {}) as { success?: unknown; reason?: unknown };
      push({ t: 'login', ts: now, success: o.success === true,
             reason: typeof o.reason === 'string' ? o.reason.slice(0, 128) : '' });
    } else if (name === 'conversion') {
      const o = (a || {}) as { value?: unknown; currency?: unknown };
      const value = Number(o.value);
      if (!(value >= 0)) return;
      const event: RumEvent = { t: 'conversion', ts: now, value };
      if (typeof o.currency === 'string' && /^[A-Za-z]{3}$/.test(o.currency)) event.currency = o.currency;
      push(event);
    } else if (name === 'event') {
      if (typeof a !== 'string' || !a) return;
      push({ t: 'custom', ts: now, name: a.slice(0, 64), props: flatProps(b) });
    } else if (name === 'consent') {
      allowed = a !== false;
      if (!allowed) events = [];
    } else if (name === 'user') {
      setUser(a);
    }
  }

  /** A web-vitals metric became final (each is sent once). */
  function vital(name: string, value: number, attr?: Record<string, string | undefined>): void {
    if (!(value >= 0)) return;
    vitals[name] = name === 'cls' ? Math.round(value * 10000) / 10000 : Math.round(value);
    if (attr) {
      for (const k in attr) {
        const v = attr[k];
        if (v) attribution[k] = k === 'lcp_resource' ? scrubUrl(v) : v.slice(0, 256);
      }
    }
  }

  function error(message: string, source: string, line: number, col: number, stack: string): void {
    const event = errors.add(message || 'Error', scrubUrl(source || ''), line || 0, col || 0,
                             stack || '', env.now());
    if (event) push(event);
  }

  /** A fetch/XHR finished: failed API calls and login outcomes. */
  function request(info: CallInfo): void {
    if (!opts || info.url.indexOf(opts.endpoint) === 0) return;
    const path = scrubUrl(info.url);
    const now = env.now();
    const login = opts.login;
    if (login && samePath(path, login.url) && info.method === (login.method || 'POST').toUpperCase()) {
      const ok = info.status >= 200 && info.status < 300;
      push({ t: 'login', ts: now, success: ok,
             reason: ok ? '' : info.status === 0 ? 'network_error' : 'http_' + info.status });
    }
    const threshold = opts.apiErrorStatus || DEFAULT_API_ERROR_STATUS;
    if (info.status === 0 || info.status >= threshold) {
      push({ t: 'api', ts: now, method: info.method.slice(0, 16), url: path, status: info.status,
             duration: Math.max(0, Math.round(info.duration)) });
    }
  }

  function rageClick(target: unknown): void {
    if (rage.click(target, env.now())) {
      perf.rage_clicks++;
      perfDirty = true;
    }
  }

  function longTask(duration: number): void {
    perf.long_tasks++;
    perf.tbt += Math.max(0, Math.round(duration - 50));
    perfDirty = true;
  }

  /** Send what is new since the last flush (nothing when there is nothing). */
  function flush(): void {
    if (!opts || !allowed || !sampled) return;
    const hasVitals = Object.keys(vitals).length > 0;
    if (!hasVitals && !events.length && !perfDirty && firstFlushDone) return;
    const env1: Envelope = {
      v: 1, site: opts.site, sid, pid, seq, sent_at: env.now(),
      url: scrubUrl(url, opts.allowQueryParams),
    };
    if (!firstFlushDone) {
      const ref = env.referrer();
      if (ref) env1.ref = scrubUrl(ref);
      const nav = env.nav(navType);
      if (nav) env1.nav = nav;
      const net = env.net();
      if (net) env1.net = net;
    }
    const rate = opts.sampleRate;
    if (typeof rate === 'number' && rate > 0 && rate < 1) env1.sample_rate = rate;
    if (user) env1.user = user;
    if (hasVitals) env1.vitals = vitals;
    if (Object.keys(attribution).length) env1.attribution = attribution;
    if (perfDirty) env1.perf = { ...perf };
    if (events.length) env1.events = events;
    env.send(opts.endpoint, trimEnvelope(env1));
    firstFlushDone = true;
    seq++;
    vitals = {};
    attribution = {};
    events = [];
    perfDirty = false;
  }

  /** A new page view (SPA route change, or a bfcache restore) on the same document. */
  function route(newUrl: string, type: string = 'soft'): void {
    flush();
    pid = randomId();
    seq = 0;
    url = newUrl;
    firstFlushDone = false;
    navType = type;
    perf.long_tasks = perf.tbt = perf.rage_clicks = 0;
    errors.reset();
  }

  return { call, vital, error, request, rageClick, longTask, flush, route };
}

function samePath(a: string, b: string): boolean {
  const path = (u: string) => u.replace(/^[a-z]+:\/\/[^/]+/i, '').split('?')[0];
  return path(a) === path(b);
}

function flatProps(value: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!value || typeof value !== 'object') return out;
  let n = 0;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (n >= 20) break;
    if (typeof v === 'string') out[key.slice(0, 64)] = v.slice(0, 256);
    else if (typeof v === 'boolean' || (typeof v === 'number' && isFinite(v))) out[key.slice(0, 64)] = v;
    else continue;
    n++;
  }
  return out;
}
