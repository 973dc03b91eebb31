import { MAX_ERRORS, MAX_STACK } from './constants.js';
import type { RumEvent } from '../types.js';

/**
 * De-duplicates errors within a page view (same message, source, line, col) and
 * caps them, so a loop that throws cannot flood the collector.
 */
export function createErrorLog(max: number = MAX_ERRORS) {
  let seen: Record<string, 1> = {};
  let count = 0;
  return {
    /** An error event to send, or undefined when it is a repeat or over the cap. */
    add(message: string, source: string, line: number, col: number, stack: string,
        ts: number): RumEvent | undefined {
      const key = message + '|' + source + '|' + line + '|' + col;
      if (seen[key] || count >= max) return undefined;
      seen[key] = 1;
      count++;
      return { t: 'error', ts, message: message.slice(0, 1024), source, line, col,
               stack: stack.split('\n').slice(0, 10).join('\n').slice(0, MAX_STACK) };
    },
    /** A new page view starts with a clean slate. */
    reset(): void {
      seen = {};
      count = 0;
    },
  };
}
