// The app's version is the content hash the server put in the path the app
// was loaded from (/v/<hash>/js/…, see server/shell.py): nothing to keep by hand.
const match = /\/v\/([0-9a-f]+)\//.exec(new URL(import.meta.url).pathname);
export const APP_VERSION = match ? match[1] : 'unversioned';
/** Where this version's modules live, for code (and tests) that import them by path. */
export const MODULE_BASE = new URL('.', import.meta.url).pathname;
