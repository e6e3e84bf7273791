// Time helpers. Visits happen in the account's time zone, which may differ
// from the phone's; all wall-clock reasoning goes through Intl with an
// explicit timeZone, and instants on the wire are RFC 3339 with an offset.

const partsCache = new Map();

function partsFormatter(timeZone) {
  if (!partsCache.has(timeZone)) {
    partsCache.set(timeZone, new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    }));
  }
  return partsCache.get(timeZone);
}

function safeZone(timeZone) {
  try {
    partsFormatter(timeZone || 'UTC');
    return timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Wall-clock parts of an instant in a zone: {year, month, day, hour, minute, second}. */
export function zonedParts(date, timeZone) {
  const out = {};
  for (const p of partsFormatter(safeZone(timeZone)).formatToParts(date)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  if (out.hour === 24) out.hour = 0;
  return out;
}

/** Offset of the zone from UTC at that instant, in minutes (Taipei: +480). */
export function zoneOffsetMinutes(date, timeZone) {
  const p = zonedParts(date, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

function offsetSuffix(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** RFC 3339 in the given zone, e.g. 2026-11-30T10:00:00+08:00. */
export function isoInZone(date, timeZone) {
  const p = zonedParts(date, timeZone);
  const off = zoneOffsetMinutes(date, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${offsetSuffix(off)}`;
}

const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** RFC 3339 in the phone's own zone. */
export const isoLocal = (date = new Date()) => isoInZone(date, LOCAL_ZONE);

/** YYYY-MM-DD of an instant in a zone (the phone's zone when none is given). */
export function dateInZone(date, timeZone = LOCAL_ZONE) {
  const p = zonedParts(date, timeZone || LOCAL_ZONE);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

export function hhmmInZone(date, timeZone) {
  const p = zonedParts(date, timeZone);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** The instant of a wall-clock date and time in a zone (handles DST by re-checking the offset). */
export function instantFromZoned(dateStr, timeStr, timeZone) {
  const [y, m, d] = dateStr.split('-').map(Number);
  const [hh, mm] = timeStr.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = new Date(wall - zoneOffsetMinutes(new Date(wall), timeZone) * 60000);
  guess = new Date(wall - zoneOffsetMinutes(guess, timeZone) * 60000);
  return guess;
}

export function addDays(dateStr, days) {
  const [y, m, d] = dateStr.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Whole days from a to b (both YYYY-MM-DD). */
export function daysBetween(a, b) {
  const toUtc = (s) => { const [y, m, d] = s.split('-').map(Number); return Date.UTC(y, m - 1, d); };
  return Math.round((toUtc(b) - toUtc(a)) / 86400000);
}

/** "HH:MM" → minutes after midnight. */
export function minutesOfDay(hhmm) {
  const [h, m] = String(hhmm).split(':').map(Number);
  return h * 60 + (m || 0);
}

export function parseInstant(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
