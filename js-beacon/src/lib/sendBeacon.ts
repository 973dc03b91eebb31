/**
 * Send a body as text/plain (a CORS "simple" request: no preflight): sendBeacon
 * survives page unload; fetch keepalive is the fallback when sendBeacon is
 * missing or refuses (queue full). Never throws, never rejects.
 */
export function sendBeacon(url: string, body: string): boolean {
  try {
    const nav = typeof navigator !== 'undefined' ? navigator : undefined;
    if (nav && nav.sendBeacon && nav.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) {
      return true;
    }
    if (typeof fetch === 'function') {
      fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit',
                   headers: { 'Content-Type': 'text/plain' } }).catch(() => undefined);
      return true;
    }
  } catch {
    // a transport failure must never reach the host page
  }
  return false;
}
