// This phone's clock in the collector's words ("This phone's clock is 7 min
// fast…"), for the banner and the sync screen (device-report.js measures it).

import { t } from '../i18n.js';

export function clockText(off) {
  const { fast, minutes } = off;
  const amount = minutes >= 120
    ? t('clock.hours', { count: Math.round(minutes / 60) })
    : t('clock.minutes', { count: minutes });
  return `${t(fast ? 'clock.fast' : 'clock.slow', { amount })} ${t('clock.fix')}`;
}

export function clockShort(off) {
  if (!off) return t('clock.right');
  const amount = off.minutes >= 120
    ? t('clock.hours', { count: Math.round(off.minutes / 60) })
    : t('clock.minutes', { count: off.minutes });
  return t(off.fast ? 'clock.short_fast' : 'clock.short_slow', { amount });
}
