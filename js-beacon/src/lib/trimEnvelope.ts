import type { Envelope } from '../types.js';
import { MAX_PAYLOAD_BYTES } from './constants.js';

/**
 * Serialize an envelope under the keepalive budget: drop stacks first, then the
 * oldest events, until it fits. Returns the JSON text.
 */
export function trimEnvelope(env: Envelope, maxBytes: number = MAX_PAYLOAD_BYTES): string {
  let body = JSON.stringify(env);
  const events = env.events || [];
  for (let i = 0; size(body) > maxBytes && i <= events.length; i++) {
    if (i === 0) for (const e of events) delete e.stack;
    else events.shift();
    body = JSON.stringify(env);
  }
  return body;
}

// UTF-8 bytes: escape non-ASCII as %XX, each of which is one byte
const size = (s: string) => unescape(encodeURIComponent(s)).length;
