// Money travels as integers in the currency's minor unit (PROTOCOL). Input is
// typed in major units, parsed from the string digit by digit so that no
// floating-point rounding can change an amount. Display goes through
// Intl.NumberFormat with the catalog's currency rules (server/labels.json):
// Taiwan dollars read NT$1,213,800 in both languages, in whole dollars (the
// way amounts are written and paid in Taiwan) — the same as on the
// supervisor pages. Amounts are typed in the same whole units.

import catalog from './labels.js';

/** The currency as a person names it: NT$ rather than TWD. */
export function currencySymbol(currency, locale) {
  const code = String(currency || 'TWD').toUpperCase();
  if (catalog.currencies[code]?.symbol) return catalog.currencies[code].symbol;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code }).formatToParts(0)
      .find((p) => p.type === 'currency')?.value || code;
  } catch {
    return code;
  }
}

/** Digits of the currency's minor unit on the wire (ISO 4217; TWD has 2). */
export function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency || 'TWD' })
      .resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function formatMoney(minor, currency, locale) {
  if (minor === null || minor === undefined || minor === '') return '—';
  const code = String(currency || 'TWD').toUpperCase();
  const digits = currencyDigits(code);
  const major = Number(minor) / 10 ** digits;
  const rule = catalog.currencies[code] || {};
  const shown = displayDigits(code);
  try {
    const parts = new Intl.NumberFormat(locale, {
      style: 'currency', currency: code, minimumFractionDigits: shown, maximumFractionDigits: shown,
    }).formatToParts(major);
    return parts.map((p) => (p.type === 'currency' && rule.symbol ? rule.symbol : p.value)).join('');
  } catch {
    return `${major.toFixed(digits)} ${code}`;
  }
}

/** Decimals a person sees and types: the catalog's rule, else the minor unit. */
export function displayDigits(currency) {
  const code = String(currency || 'TWD').toUpperCase();
  return catalog.currencies[code]?.fraction_digits ?? currencyDigits(code);
}

/**
 * "1,250.5" → 125050 for a currency shown with 2 decimals; "1,500" → 150000
 * for TWD, typed in whole dollars. null when it is not a valid positive amount.
 */
export function parseMajor(text, currency) {
  const digits = currencyDigits(currency);
  const typed = Math.min(digits, displayDigits(currency));
  const clean = String(text ?? '').replace(/[\s,_]/g, '');
  const pattern = typed > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{0,${typed}}))?$`) : /^(\d+)$/;
  const match = pattern.exec(clean);
  if (!match) return null;
  const whole = match[1];
  const frac = (match[2] || '').padEnd(digits, '0');
  const minor = Number(whole + frac);
  return Number.isSafeInteger(minor) ? minor : null;
}
