// protocol field -> [end, start] of PerformanceNavigationTiming ('' start = from navigation start)
const FIELDS: [string, string, string][] = [
  ['dns', 'domainLookupEnd', 'domainLookupStart'],
  ['connect', 'connectEnd', 'connectStart'],
  ['tls', 'connectEnd', 'secureConnectionStart'],
  ['request', 'responseStart', 'requestStart'],
  ['response', 'responseEnd', 'responseStart'],
  ['dom_interactive', 'domInteractive', ''],
  ['dom_complete', 'domComplete', ''],
  ['load', 'loadEventEnd', ''],
];

/** Navigation Timing of the document (ms, rounded), in the protocol's `nav` fields. */
export function navTiming(): Record<string, number | string> | undefined {
  const nav = performance.getEntriesByType('navigation')[0] as unknown as
    Record<string, number> & { type: string } | undefined;
  if (!nav) return undefined;
  // a prerendered page was activated later than its navigation started
  const out: Record<string, number | string> = {
    type: nav.activationStart > 0 ? 'prerender' : nav.type === 'back_forward' || nav.type === 'reload' ? nav.type : 'navigate',
  };
  for (const [key, end, start] of FIELDS) {
    const v = nav[end] - (start ? nav[start] : 0);
    // a zero end (not yet happened) or start (e.g. no TLS) gives no value
    if (nav[end] > 0 && (!start || nav[start] > 0) && v >= 0 && v <= 120000) out[key] = Math.round(v);
  }
  if (nav.transferSize >= 0) out.transfer_size = nav.transferSize;
  return out;
}
