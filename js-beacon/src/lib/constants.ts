/** Defaults and limits of the agent; the collector's limits are in docs/beacon-protocol.md. */
export const DEFAULT_API_ERROR_STATUS = 500;
/** Keepalive requests share a 64 KiB budget per page; stay clear of it. */
export const MAX_PAYLOAD_BYTES = 60000;
/** Errors kept per page view (after de-duplication). */
export const MAX_ERRORS = 20;
/** Events held per page view before the oldest are dropped. */
export const MAX_EVENTS = 100;
export const MAX_STACK = 2000;
/** The first flush after load, so that short views are not lost. */
export const FIRST_FLUSH_DELAY_MS = 1000;
/** Rage click: this many clicks on one element within the window. */
export const RAGE_CLICKS = 3;
export const RAGE_WINDOW_MS = 1000;
/** sessionStorage keys (no cookies are ever used). */
export const SESSION_KEY = 'rum:sid';
export const SAMPLED_KEY = 'rum:sampled';
