/**
 * Single-page apps: pushState, replaceState and popstate that change the path
 * are route changes; `onRoute` gets the new URL.
 */
export function observeHistory(onRoute: (url: string) => void): void {
  let last = location.pathname;
  const check = () => {
    try {
      if (location.pathname !== last) {
        last = location.pathname;
        onRoute(location.href);
      }
    } catch {
      // never break navigation
    }
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const orig = history[name];
    history[name] = function (this: History) {
      // eslint-disable-next-line prefer-rest-params
      const out = orig.apply(this, arguments as unknown as [unknown, string]);
      check();
      return out;
    };
  }
  addEventListener('popstate', check);
}
