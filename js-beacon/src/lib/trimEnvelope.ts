import type { Envelope } from '../types.js';
import { MAX_PAYLOAD_BYTES } from './constants.js';

/**
 * Serialize an envelope under the keepalive budget: drop stacks first, then the
 * oldest events, until it fits. Returns the JSON text.
 */
export function trimEnvelope(env: Envelope, maxBytes: number = MAX_PAYLOAD_BYTES): string {
  let body = JSON.stringify(env);
  if (size(body) <= maxBytes || !env.events) return body;
  for (const e of env.events) delete e.stack;
  body = JSON.stringify(env);
  while (size(body) > maxBytes && env.events.length) {
    env.events.shift();
    body = JSON.stringify(env);
  }
  return body;
}

function size(s: string): number {
  // UTF-8 length without allocating (TextEncoder is not everywhere)
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) n += c > 0x7ff ? 2 : 1;
  }
  return n;
}
