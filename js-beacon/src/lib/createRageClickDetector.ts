import { RAGE_CLICKS, RAGE_WINDOW_MS } from './constants.js';

/**
 * Rage clicks: RAGE_CLICKS or more clicks on the same element, each within
 * RAGE_WINDOW_MS of the previous, count once per burst (the visitor is clicking
 * something that does not answer). Returns a function fed with each click.
 */
export function createRageClickDetector(clicks: number = RAGE_CLICKS, windowMs: number = RAGE_WINDOW_MS) {
  let target: unknown;
  let last = -Infinity;
  let streak = 0;
  return (el: unknown, now: number): boolean => {
    streak = el === target && now - last < windowMs ? streak + 1 : 1;
    target = el;
    last = now;
    return streak === clicks;
  };
}
