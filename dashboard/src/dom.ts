// Small DOM helpers: every value reaches the page as text, never as HTML.

/** The element with this id. */
export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/** Replace a table body's rows (the table by id); `empty` is shown when there are none. */
export function fillTable(table: string, rows: HTMLTableRowElement[], empty: string): void {
  fillRows(document.getElementById(table) as HTMLTableElement, rows, empty);
}

/** Replace a table body's rows; `empty` is shown when there are none. */
export function fillRows(table: HTMLTableElement, rows: HTMLTableRowElement[], empty: string): void {
  const body = table.querySelector('tbody') as HTMLTableSectionElement;
  const columns = table.querySelectorAll('thead th').length;
  body.replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: String(columns), class: 'empty' }, empty))]));
}

export const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
