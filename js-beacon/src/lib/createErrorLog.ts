import { MAX_ERRORS, MAX_STACK } from './constants.js';
import type { RumEvent } from '../types.js';

/**
 * De-duplicates errors within a page view (same message, source, line, col) and
 * caps them, so a loop that throws cannot flood the collector. Returns the error
 * event to send, or undefined for a repeat or one over the cap.
 */
export function createErrorLog(max: number = MAX_ERRORS) {
  const seen: Record<string, 1> = {};
  let count = 0;
  return (message: string, source: string, line: number, col: number, stack: string,
          ts: number): RumEvent | undefined => {
    const key = message + '|' + source + '|' + line + '|' + col;
    if (seen[key] || count >= max) return undefined;
    seen[key] = 1;
    count++;
    return { t: 'error', ts, message, source, line, col,
             stack: stack.split('\n').slice(0, 10).join('\n').slice(0, MAX_STACK) };
  };
}
