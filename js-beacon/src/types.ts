/** Wire format v1: see docs/beacon-protocol.md (the collector's contract). */
export interface RumEvent {
  t: 'error' | 'api' | 'login' | 'conversion' | 'custom';
  ts: number;
  [field: string]: unknown;
}

export interface Envelope {
  v: 1;
  site: string;
  sid: string;
  pid: string;
  seq: number;
  sent_at: number;
  url: string;
  ref?: string;
  sample_rate?: number;
  user?: string;
  nav?: Record<string, number | string>;
  vitals?: Record<string, number>;
  attribution?: Record<string, string>;
  net?: Record<string, number | string | boolean>;
  perf?: Record<string, number>;
  events?: RumEvent[];
}

/** Options of rum('init', {...}); every field is documented in js-beacon/README.md. */
export interface Options {
  /** Site key, as registered with the collector. */
  site: string;
  /** Beacon URL, e.g. https://rum.example.com/v1/beacon. */
  endpoint: string;
  /** Share of sessions measured (0-1], decided once per session. Default 1. */
  sampleRate?: number;
  /** Login endpoint to watch: 2xx = success, 4xx = failure with the status as reason. */
  login?: { url: string; method?: string };
  /** Report API calls with a status at or above this (and network errors). Default 500. */
  apiErrorStatus?: number;
  /** Query parameters kept on reported URLs (exact names or prefixes ending in *). Default none. */
  allowQueryParams?: string[];
  /** Send nothing when the browser sends Global Privacy Control. Default false. */
  respectGPC?: boolean;
  /** An id of the visitor (e.g. customer number) so alerts can list affected users. */
  user?: string;
  /** Hash the user id with SHA-256 in the browser before sending. Default false. */
  hashUser?: boolean;
}
