// Shown on the sync screen; keep equal to VERSION in /sw.js (a test checks).
export const APP_VERSION = '1.0.0';
