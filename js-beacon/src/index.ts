/**
 * rum.js: the browser entry. Replays calls queued by the snippet, installs
 * `window.rum`, and wires web-vitals, errors, requests, clicks, long tasks and
 * history to the agent. Every entry point is guarded: the agent never throws
 * into the host page.
 */
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'rum-web-vitals';
import { createAgent } from './agent.js';
import { FIRST_FLUSH_DELAY_MS } from './lib/constants.js';
import { guard } from './lib/guard.js';
import { navTiming } from './lib/navTiming.js';
import { networkInfo } from './lib/networkInfo.js';
import { observeHistory } from './lib/observeHistory.js';
import { observeRequests } from './lib/observeRequests.js';
import { scrubUrl } from './lib/scrubUrl.js';
import { sendBeacon } from './lib/sendBeacon.js';

declare const ATTRIBUTION: boolean;

type RumFn = ((...args: unknown[]) => void) & { q?: unknown[][]; loaded?: boolean };

guard(() => {
  const w = window as unknown as { rum?: RumFn };
  if (w.rum?.loaded) return;
  const agent = createAgent({
    now: Date.now,
    send: sendBeacon,
    storage: () => sessionStorage, // a getter: touching it can throw (sandboxed frames)
    random: Math.random,
    href: () => location.href,
    referrer: () => document.referrer,
    gpc: () => (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true,
    nav: (type) => (type ? { type } : navTiming()),
    net: networkInfo,
    sha256: (text) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then(
      (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))),
  });
  const queue = w.rum?.q || [];
  const rum: RumFn = (...args: unknown[]) => guard(() => agent.call(...(args as [unknown])));
  rum.loaded = true;
  w.rum = rum;
  for (const args of queue) rum(...args);

  const report = (m: { name: string; value: number; attribution?: object }) =>
    guard(() => {
      const a = ATTRIBUTION ? (m.attribution as Record<string, unknown> | undefined) : undefined;
      let script: string | undefined;
      if (ATTRIBUTION && a) {
        // the parts of LCP and INP (docs/beacon-protocol.md), each sent as a vital; an
        // attribution has only its own metric's parts, the others are undefined and skipped
        const parts: Record<string, unknown> = {
          lcp_ttfb: a.timeToFirstByte, lcp_load_delay: a.resourceLoadDelay,
          lcp_load_time: a.resourceLoadDuration, lcp_render_delay: a.elementRenderDelay,
          inp_input_delay: a.inputDelay, inp_processing: a.processingDuration,
          inp_presentation: a.presentationDelay,
        };
        for (const k in parts) agent.vital(k, parts[k] as number);
        // the script the longest long animation frame blames (Chromium's LoAF API only)
        const s = (a.longestScript as { entry: { sourceURL: string } } | undefined)?.entry.sourceURL;
        script = s ? scrubUrl(s) : undefined;
      }
      agent.vital(m.name.toLowerCase(), m.value, a && {
        lcp_element: a.target as string, lcp_resource: a.url as string,
        inp_target: a.interactionTarget as string, cls_source: a.largestShiftTarget as string,
        inp_script: script,
      });
    });
  onLCP(report);
  onINP(report);
  onCLS(report);
  onFCP(report);
  onTTFB(report);

  addEventListener('error', (e: ErrorEvent) => guard(() => {
    if (!e.message && !e.error) return; // resource load errors carry no message
    agent.error(String(e.message), e.filename, e.lineno, e.colno, e.error?.stack || '');
  }));
  addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => guard(() => {
    const r = e.reason as { message?: string; stack?: string } | undefined;
    agent.error(r?.message || String(r), '', 0, 0, r?.stack || '');
  }));
  addEventListener('click', (e) => guard(() => agent.rageClick(e.target)), true);
  guard(() => new PerformanceObserver((list) => guard(() => {
    for (const entry of list.getEntries()) agent.longTask(entry.duration);
  })).observe({ type: 'longtask', buffered: true }));
  observeRequests(agent.request, () => performance.now());
  observeHistory((url) => guard(() => agent.route(url)));

  const flush = () => guard(agent.flush);
  // after web-vitals' own (capture) listeners, so final values are in this flush
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  addEventListener('pagehide', flush);
  addEventListener('pageshow', (e: PageTransitionEvent) => guard(() => {
    if (e.persisted) agent.route(location.href, 'restore'); // back/forward cache
  }));
  const afterLoad = () => setTimeout(flush, FIRST_FLUSH_DELAY_MS);
  if (document.readyState === 'complete') afterLoad();
  else addEventListener('load', afterLoad);
});
