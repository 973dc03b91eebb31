/**
 * Send a body as text/plain (a CORS "simple" request: no preflight): sendBeacon
 * survives page unload; fetch keepalive is the fallback when sendBeacon is
 * missing or refuses (queue full). Never throws, never rejects.
 */
export function sendBeacon(url: string, body: string): void {
  try {
    if (navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) return;
  } catch {
    // no sendBeacon: fall back
  }
  try {
    fetch(url, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain' } })
      .catch(() => undefined);
  } catch {
    // a transport failure must never reach the host page
  }
}
