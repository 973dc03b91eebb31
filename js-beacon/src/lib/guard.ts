/** Run `fn`, swallowing any error: measuring must never break the host page. */
export function guard(fn: () => void): void {
  try {
    fn();
  } catch {
    // on purpose
  }
}
