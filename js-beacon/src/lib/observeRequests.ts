import { guard } from './guard.js';

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
  const origFetch = fetch;
  window.fetch = function (this: unknown, input: RequestInfo | URL | Request | string, init?: RequestInit) {
    const start = now();
    const req = input as { url?: string; method?: string };
    const url = req.url || String(input); // a Request has .url; strings and URLs stringify
    const method = (init?.method || req.method || 'GET').toUpperCase();
    const done = (status: number) => guard(() => report({ method, url, status, duration: now() - start }));
    // eslint-disable-next-line prefer-rest-params
    const p = origFetch.apply(this, arguments as unknown as [RequestInfo, RequestInit]);
    p.then((r: Response) => done(r.status), () => done(0));
    return p;
  } as typeof fetch;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  proto.open = function (this: XMLHttpRequest & { _rum?: [string, string] }, m: string, u: string | URL) {
    this._rum = [String(m).toUpperCase(), String(u)];
    // eslint-disable-next-line prefer-rest-params
    return open.apply(this, arguments as unknown as [string, string, boolean]);
  } as typeof open;
  proto.send = function (this: XMLHttpRequest & { _rum?: [string, string] }) {
    const info = this._rum;
    const start = now();
    if (info) {
      this.addEventListener('loadend', () => guard(() => report({
        method: info[0], url: info[1], status: this.status, duration: now() - start })));
    }
    // eslint-disable-next-line prefer-rest-params
    return send.apply(this, arguments as unknown as [Document]);
  };
}
