// Money travels as integers in the currency's minor unit (PROTOCOL). Input is
// typed in major units, parsed from the string digit by digit so that no
// floating-point rounding can change an amount.

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
  const digits = currencyDigits(currency);
  const major = Number(minor) / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency', currency: currency || 'TWD',
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency || ''}`.trim();
  }
}

/** "1,250.5" → 125050 for a 2-digit currency; null when it is not a valid positive amount. */
export function parseMajor(text, currency) {
  const digits = currencyDigits(currency);
  const clean = String(text ?? '').replace(/[\s,_]/g, '');
  const pattern = digits > 0 ? new RegExp(`^(\\d+)(?:\\.(\\d{0,${digits}}))?$`) : /^(\d+)$/;
  const match = pattern.exec(clean);
  if (!match) return null;
  const whole = match[1];
  const frac = (match[2] || '').padEnd(digits, '0');
  const minor = Number(whole + frac);
  return Number.isSafeInteger(minor) ? minor : null;
}
