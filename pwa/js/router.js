// Hash routes: the service worker only ever has to serve one HTML page, and
// every screen works offline from the same cached shell.

const ROUTES = [
  { name: 'today', pattern: /^#?\/?(?:today)?$/ },
  { name: 'accounts', pattern: /^#\/accounts$/ },
  { name: 'account', pattern: /^#\/account\/(?<id>[\w-]+)$/ },
  { name: 'plan', pattern: /^#\/plan\/(?<accountId>[\w-]+)(?:\/(?<visitId>[\w-]+))?$/ },
  { name: 'visit', pattern: /^#\/visit\/(?<id>[\w-]+)$/ },
  { name: 'map', pattern: /^#\/map(?:\/account\/(?<accountId>[\w-]+))?$/ },
  { name: 'sync', pattern: /^#\/sync$/ },
  { name: 'login', pattern: /^#\/login$/ },
];

export function parseRoute(hash = location.hash) {
  const [path, query = ''] = (hash || '').split('?');
  const params = Object.fromEntries(new URLSearchParams(query));
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match) return { name: route.name, params: { ...params, ...(match.groups || {}) } };
  }
  return { name: 'today', params };
}
