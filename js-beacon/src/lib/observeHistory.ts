/**
 * Single-page apps: a pushState or popstate that changes the path is a route
 * change; `onRoute` gets the new URL. replaceState is left alone on purpose:
 * apps use it to rewrite the current entry (filters, query params), not to
 * move to a new page.
 */
export function observeHistory(onRoute: (url: string) => void): void {
  let last = location.pathname;
  const check = () => {
    if (location.pathname !== last) {
      last = location.pathname;
      onRoute(location.href);
    }
  };
  const push = history.pushState;
  history.pushState = function (this: History) {
    // eslint-disable-next-line prefer-rest-params
    push.apply(this, arguments as unknown as [unknown, string]);
    check();
  };
  addEventListener('popstate', check);
}
