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
  send(url: string, body: string): void;
  /** sessionStorage, behind a getter because merely touching it can throw */
  storage?: () => KeyValue;
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

interface View {
  pid: string;
  url: string;
  seq: number;
  /** undefined: the document's own navigation (full timing); else 'soft' or 'restore' */
  navType?: string;
}

// Optional fields are set to undefined rather than left out: JSON.stringify drops them,
// and the code stays small (every byte of this file ships to every visitor). Strings are
// not truncated here when the collector truncates them (docs/beacon-protocol.md).

/** The agent's state machine: one page view at a time, flushed as envelopes. */
export function createAgent(env: Env) {
  let opts: Options | undefined;
  let allowed = true;
  let sampled = false;
  let sid = '';
  let user = '';
  // the document's own page view: web-vitals measures the document, so its vitals
  // belong to this view even when they are reported after a soft navigation
  const hard: View = { pid: randomId(), url: env.href(), seq: 0 };
  let view = hard;
  let vitals: Record<string, number> = {};
  let attribution: Record<string, string> = {};
  let events: RumEvent[] = [];
  const perf = { long_tasks: 0, tbt: 0, rage_clicks: 0 };
  let perfDirty = false;
  let errors = createErrorLog();
  const rage = createRageClickDetector();

  function push(event: RumEvent): void {
    if (events.push(event) > MAX_EVENTS) events.shift();
  }

  function setUser(id: unknown): void {
    if (!id || typeof id !== 'string') return;
    if (opts!.hashUser && env.sha256) env.sha256(id).then((h) => { user = h; }, () => undefined);
    else user = id.slice(0, 128);
  }

  /** rum('name', ...args): the public API. */
  function call(name: unknown, a?: unknown, b?: unknown): void {
    const ts = env.now();
    const o = (a || {}) as Record<string, unknown>;
    if (name === 'init') {
      if (typeof o.site !== 'string' || typeof o.endpoint !== 'string') return;
      opts = o as unknown as Options;
      const rate = opts.sampleRate!;
      const session = getSession(env.storage, rate > 0 && rate <= 1 ? rate : 1, env.random);
      sid = session.sid;
      sampled = session.sampled;
      if (opts.respectGPC && env.gpc()) allowed = false;
      setUser(opts.user);
    } else if (name === 'login') {
      push({ t: 'login', ts, success: o.success === true, reason: typeof o.reason == 'string' ? o.reason : '' });
    } else if (name === 'conversion') {
      const value = Number(o.value);
      if (value >= 0) {
        push({ t: 'conversion', ts, value,
               currency: /^[A-Za-z]{3}$/.test(o.currency as string) ? o.currency : undefined });
      }
    } else if (name === 'event') {
      if (a && typeof a === 'string') push({ t: 'custom', ts, name: a.slice(0, 64), props: flatProps(b) });
    } else if (name === 'consent') {
      allowed = a !== false;
      if (!allowed) events = [];
    } else if (name === 'user' && opts) {
      setUser(a);
    }
  }

  /** A web-vitals metric became final (each is sent once). */
  function vital(name: string, value: number, attr?: Record<string, string | undefined>): void {
    if (!(value >= 0)) return;
    vitals[name] = name === 'cls' ? Math.round(value * 1e4) / 1e4 : Math.round(value);
    for (const k in attr) {
      const v = attr[k];
      if (v) attribution[k] = k === 'lcp_resource' ? scrubUrl(v) : v.slice(0, 256);
    }
  }

  function error(message: string, source: string, line: number, col: number, stack: string): void {
    const event = errors(message || 'Error', scrubUrl(source || ''), line || 0, col || 0,
                         stack || '', env.now());
    if (event) push(event);
  }

  /** A fetch/XHR finished: failed API calls and login outcomes. */
  function request(info: CallInfo): void {
    if (!opts || !info.url.indexOf(opts.endpoint)) return;
    const url = scrubUrl(info.url);
    const ts = env.now();
    const status = info.status;
    const login = opts.login;
    if (login && path(url) === path(login.url) && info.method === (login.method || 'POST').toUpperCase()) {
      const success = status > 199 && status < 300;
      push({ t: 'login', ts, success, reason: success ? '' : status ? 'http_' + status : 'network_error' });
    }
    if (!status || status >= (opts.apiErrorStatus || DEFAULT_API_ERROR_STATUS)) {
      push({ t: 'api', ts, method: info.method, url, status, duration: Math.round(info.duration) });
    }
  }

  function rageClick(target: unknown): void {
    if (rage(target, env.now())) {
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
    const hasVitals = has(vitals);
    if (hasVitals && view !== hard) send(hard, false); // late document vitals
    if ((hasVitals && view === hard) || events.length || perfDirty || !view.seq) send(view, true);
  }

  function send(target: View, withEvents: boolean): void {
    const first = !target.seq;
    const rate = opts!.sampleRate!;
    const out: Envelope = {
      v: 1, site: opts!.site, sid, pid: target.pid, seq: target.seq++, sent_at: env.now(),
      url: scrubUrl(target.url, opts!.allowQueryParams),
      ref: first && target === hard && env.referrer() ? scrubUrl(env.referrer()) : undefined,
      nav: first ? env.nav(target.navType) : undefined,
      net: first ? env.net() : undefined,
      sample_rate: rate > 0 && rate < 1 ? rate : undefined,
      user: user || undefined,
    };
    if (target === hard && has(vitals)) {
      out.vitals = vitals;
      out.attribution = has(attribution) ? attribution : undefined;
      vitals = {};
      attribution = {};
    }
    if (withEvents) {
      out.perf = perfDirty ? { ...perf } : undefined;
      out.events = events.length ? events : undefined;
      events = [];
      perfDirty = false;
    }
    env.send(opts!.endpoint, trimEnvelope(out));
  }

  /** A new page view (SPA route change, or a bfcache restore) on the same document. */
  function route(url: string, navType = 'soft'): void {
    flush();
    view = { pid: randomId(), url, seq: 0, navType };
    perf.long_tasks = perf.tbt = perf.rage_clicks = 0;
    errors = createErrorLog();
  }

  return { call, vital, error, request, rageClick, longTask, flush, route };
}

const has = (o: object) => Object.keys(o).length > 0;

/** The path of a URL, absolute or not, without query. */
const path = (u: string) => u.replace(/^\w+:\/\/[^/]+/, '').split('?')[0];

function flatProps(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key in value as object) {
    const v = (value as Record<string, unknown>)[key];
    const kind = typeof v;
    // the collector truncates long keys and strings; nested values it would refuse
    if (n < 20 && (kind === 'string' || kind === 'boolean' || (kind === 'number' && isFinite(v as number)))) {
      out[key] = v;
      n++;
    }
  }
  return out;
}
