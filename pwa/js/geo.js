// One position fix for a check-in. A refusal, a timeout or a poor fix is
// reported as exactly that — the app never invents or reuses a stale position.

export function getPosition({ timeoutMs = 15000 } = {}) {
  if (!window.isSecureContext) return Promise.resolve({ ok: false, reason: 'insecure' });
  if (!('geolocation' in navigator)) return Promise.resolve({ ok: false, reason: 'unsupported' });
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({
        ok: true, lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy,
        // How old the fix is: evidence beside the accuracy (a day at most, as the server keeps it).
        ageS: Math.min(86400, Math.max(0, Math.round((Date.now() - pos.timestamp) / 1000))),
      }),
      (error) => resolve({ ok: false, reason: ['unavailable', 'denied', 'unavailable', 'timeout'][error.code] || 'unavailable' }),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}
