// Lighthouse (from bench/node_modules, Debian's Chromium at CHROME_PATH) on
// the collector app's first screen, twice: a phone's very first visit (the
// sign-in screen, nothing cached) and a signed-in collector opening Today
// again (service worker, IndexedDB and HTTP cache in place). Mobile
// defaults: a mid-range phone, simulated slow 4G, 4x CPU slowdown.
//
//   node bench/lighthouse_flow.mjs BASE_URL USERNAME PASSWORD OUT.json
// bench/lighthouse.py starts the server and runs this; see bench/README.md.

import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import { startFlow } from 'lighthouse';

const [base, username, password, out] = process.argv.slice(2);
const CATEGORIES = ['performance', 'accessibility', 'best-practices'];
const METRICS = ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time',
  'cumulative-layout-shift', 'speed-index', 'interactive'];

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: 'new',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  const flow = await startFlow(page, { config: { extends: 'lighthouse:default', settings: { onlyCategories: CATEGORIES } } });

  await flow.navigate(`${base}/`, { name: 'First visit: sign-in screen' });

  // Sign in as a collector would, and let the first sync and the service worker finish.
  await page.waitForSelector('#login-username');
  await page.type('#login-username', username);
  await page.type('#login-password', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=today]', { timeout: 60_000 });
  await page.waitForFunction(() => navigator.serviceWorker?.controller
    && document.querySelector('#sync-pill')?.dataset.tone === 'ok', { timeout: 60_000 });

  await flow.navigate(`${base}/`, {
    name: 'Signed in: Today (return visit)',
    disableStorageReset: true,
  });

  const result = await flow.createFlowResult();
  const steps = result.steps.map((step) => {
    const lhr = step.lhr;
    return {
      name: step.name,
      url: lhr.finalDisplayedUrl,
      scores: Object.fromEntries(CATEGORIES.map((c) => [c, lhr.categories[c]?.score ?? null])),
      metrics_ms: Object.fromEntries(METRICS.map((m) => [m, lhr.audits[m]?.numericValue ?? null])),
      transfer_bytes: lhr.audits['total-byte-weight']?.numericValue ?? null,
      requests: lhr.audits['network-requests']?.details?.items?.length ?? null,
      failed_audits: Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
        .map((a) => a.id),
      runtime_error: lhr.runtimeError?.message || null,
      warnings: lhr.runWarnings || [],
      lighthouse: lhr.lighthouseVersion,
      user_agent: lhr.environment?.hostUserAgent,
    };
  });
  fs.writeFileSync(out, JSON.stringify({ steps }, null, 2));
} finally {
  await browser.close();
}
