/** Navigation Timing of the document (ms, rounded), in the protocol's `nav` fields. */
export function navTiming(restored: boolean): Record<string, number | string> | undefined {
  const perf = typeof performance !== 'undefined' ? performance : undefined;
  const nav = perf && perf.getEntriesByType
    ? (perf.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)
    : undefined;
  if (!nav) return restored ? { type: 'restore' } : undefined;
  const out: Record<string, number | string> = {
    type: restored ? 'restore' : navType(nav.type),
  };
  const put = (k: string, v: number) => {
    if (v >= 0 && v <= 120000) out[k] = Math.round(v);
  };
  put('dns', nav.domainLookupEnd - nav.domainLookupStart);
  put('connect', nav.connectEnd - nav.connectStart);
  if (nav.secureConnectionStart > 0) put('tls', nav.connectEnd - nav.secureConnectionStart);
  put('request', nav.responseStart - nav.requestStart);
  put('response', nav.responseEnd - nav.responseStart);
  put('dom_interactive', nav.domInteractive);
  put('dom_complete', nav.domComplete);
  if (nav.loadEventEnd > 0) put('load', nav.loadEventEnd);
  if (nav.transferSize >= 0) out.transfer_size = nav.transferSize;
  return out;
}

function navType(type: string): string {
  // document.prerendering pages report 'navigate'; activationStart tells them apart
  if (typeof document !== 'undefined' && (document as { prerendering?: boolean }).prerendering) {
    return 'prerender';
  }
  return type === 'back_forward' || type === 'reload' ? type : 'navigate';
}
