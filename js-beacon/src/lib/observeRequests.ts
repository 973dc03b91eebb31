/** What the agent learns about one fetch/XHR call. */
export interface CallInfo {
  method: string;
  url: string;
  status: number; // 0 = network error
  duration: number;
}

/**
 * Wrap fetch and XMLHttpRequest to observe every call's outcome (for failed
 * API calls and login detection). The wrappers return exactly what the
 * originals return and rethrow what they throw.
 */
export function observeRequests(report: (info: CallInfo) => void, now: () => number): void {
  const w = window as unknown as { fetch?: typeof fetch; XMLHttpRequest?: typeof XMLHttpRequest };
  const origFetch = w.fetch;
  if (origFetch) {
    w.fetch = function (this: unknown, input: RequestInfo | URL | Request | string, init?: RequestInit) {
      const start = now();
      const req = input as { url?: string; method?: string };
      const url = typeof input === 'string' ? input : req.url || String(input);
      const method = ((init && init.method) || req.method || 'GET').toUpperCase();
      const done = (status: number) => safely(() => report({ method, url, status, duration: now() - start }));
      // eslint-disable-next-line prefer-rest-params
      const p = origFetch.apply(this, arguments as unknown as [RequestInfo, RequestInit]);
      p.then((r: Response) => done(r.status), () => done(0));
      return p;
    } as typeof fetch;
  }
  const XHR = w.XMLHttpRequest;
  if (XHR) {
    const open = XHR.prototype.open;
    const send = XHR.prototype.send;
    XHR.prototype.open = function (this: XMLHttpRequest & { _rum?: [string, string] }, m: string, u: string | URL) {
      this._rum = [String(m).toUpperCase(), String(u)];
      // eslint-disable-next-line prefer-rest-params
      return open.apply(this, arguments as unknown as [string, string, boolean]);
    } as typeof open;
    XHR.prototype.send = function (this: XMLHttpRequest & { _rum?: [string, string] }) {
      const info = this._rum;
      if (info) {
        const start = now();
        this.addEventListener('loadend', () => safely(() => report({
          method: info[0], url: info[1], status: this.status, duration: now() - start })));
      }
      // eslint-disable-next-line prefer-rest-params
      return send.apply(this, arguments as unknown as [Document]);
    };
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // never break the host page's request handling
  }
}
