// Which maps app an address opens: a geo: link on Android (the system offers
// the maps apps the phone has), Apple Maps on iPhone and iPad, a web map
// everywhere else. Read from the browser once; tests emulate user agents.

export function platform(userAgent = navigator.userAgent, touchPoints = navigator.maxTouchPoints || 0) {
  if (/android/i.test(userAgent)) return 'android';
  // iPadOS presents itself as a Mac; only the touch screen tells them apart.
  if (/iphone|ipad|ipod/i.test(userAgent) || (/macintosh/i.test(userAgent) && touchPoints > 1)) return 'ios';
  return 'web';
}

const hasPosition = (a) => Number.isFinite(Number(a?.lat)) && Number.isFinite(Number(a?.lon))
  && a.lat !== null && a.lon !== null;

/**
 * A link that starts directions to the account. The customer's name is never
 * put in it: the maps app or site would see who the collector is visiting
 * (no disclosure to third parties: docs/user-guide.md, "Directions").
 */
export function directionsUrl(account, kind = platform()) {
  const where = hasPosition(account) ? `${Number(account.lat)},${Number(account.lon)}` : null;
  const address = encodeURIComponent(account?.address || '');
  if (!where && !address) return null;
  if (kind === 'android') return where ? `geo:${where}?q=${where}` : `geo:0,0?q=${address}`;
  if (kind === 'ios') return `https://maps.apple.com/?daddr=${where || address}&dirflg=d`;
  return `https://www.google.com/maps/dir/?api=1&destination=${where || address}`;
}
