import { createAgent, type Env } from '../src/agent.js';
import type { Envelope } from '../src/types.js';

/** An agent over a fake browser: a settable clock, in-memory storage, captured beacons. */
export function fakeAgent(over: Partial<Env> = {}) {
  const sent: Envelope[] = [];
  const store: Record<string, string> = {};
  let clock = 1_764_000_000_000;
  const env: Env = {
    now: () => clock,
    send: (_url, body) => {
      sent.push(JSON.parse(body));
    },
    storage: () => ({ getItem: (k) => store[k] ?? null, setItem: (k, v) => { store[k] = v; } }),
    random: () => 0.5,
    href: () => 'https://shop.example.com/product/42?utm_source=mail&email=a@b.c#top',
    referrer: () => 'https://www.google.com/search?q=secret',
    gpc: () => false,
    nav: (type) => (type ? { type } : { type: 'navigate', dns: 5, load: 900 }),
    net: () => ({ type: '4g', rtt: 50 }),
    ...over,
  };
  const agent = createAgent(env);
  return { agent, sent, store, tick: (ms: number) => { clock += ms; } };
}

export const INIT = { site: 'shop-eu', endpoint: 'https://rum.example.com/v1/beacon' };
