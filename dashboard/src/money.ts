// Money in the site's currency: "€1,234" (or "1,234 EUR,USD" when several codes were sent).

export function money(value: number, currency: string): string {
  if (!Number.isFinite(value)) return '–';
  const digits = Math.abs(value) >= 100 ? 0 : 2;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, maximumFractionDigits: digits,
      minimumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toLocaleString('en', { maximumFractionDigits: digits })} ${currency || ''}`.trim();
  }
}
