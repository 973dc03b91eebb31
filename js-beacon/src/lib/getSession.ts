import { SAMPLED_KEY, SESSION_KEY } from './constants.js';
import { randomId } from './randomId.js';

/** Minimal storage (sessionStorage in the browser); may throw (privacy modes). */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The session id and whether this session is sampled, decided once per session
 * and kept in sessionStorage (no cookie): every page of a session agrees.
 */
export function getSession(storage: (() => KeyValue) | undefined, sampleRate: number,
                           random: () => number = Math.random): { sid: string; sampled: boolean } {
  let sid: string | null = null;
  let sampled: string | null = null;
  let store: KeyValue | undefined;
  try {
    store = storage!();
    sid = store.getItem(SESSION_KEY);
    sampled = store.getItem(SAMPLED_KEY);
  } catch {
    // storage blocked: a session per page is the best we can do
  }
  sid = sid || randomId();
  sampled = sampled || (random() < sampleRate ? '1' : '0');
  try {
    store!.setItem(SESSION_KEY, sid);
    store!.setItem(SAMPLED_KEY, sampled);
  } catch {
    // ignore
  }
  return { sid, sampled: sampled === '1' };
}
