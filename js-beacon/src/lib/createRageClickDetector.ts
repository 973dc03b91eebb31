import { RAGE_CLICKS, RAGE_WINDOW_MS } from './constants.js';

/**
 * Rage clicks: RAGE_CLICKS or more clicks on the same element within
 * RAGE_WINDOW_MS count once (the visitor is clicking something that does not answer).
 */
export function createRageClickDetector(clicks: number = RAGE_CLICKS, windowMs: number = RAGE_WINDOW_MS) {
  let target: unknown = null;
  let times: number[] = [];
  let counted = false;
  return {
    /** Feed a click; true when it completes a rage-click burst. */
    click(el: unknown, now: number): boolean {
      if (el !== target) {
        target = el;
        times = [];
        counted = false;
      }
      times = times.filter((t) => now - t < windowMs);
      times.push(now);
      if (times.length < clicks) {
        counted = times.length > 1 && counted;
        return false;
      }
      if (counted) return false;
      counted = true;
      return true;
    },
  };
}
