// The dashboard's map of today's check-ins (templates/supervisor/_day_map.html).
// A file, not inline script, so the pages' Content-Security-Policy holds
// (script-src 'self'). The data and the words come from the element's data
// attributes, already translated and with times on the supervisor's clock.
// Whenever the map cannot show (Leaflet missing, the tiles not loading) it
// stays hidden and the notice says so; the table below holds the same rows.
(function () {
  'use strict';
  var TILE_TIMEOUT_MS = 8000;
  var box = document.getElementById('day-map');
  var notice = document.getElementById('day-map-notice');
  if (!box || !notice) return;
  var panel = box.closest('section') || box.parentNode;

  function state(name) { panel.setAttribute('data-map-state', name); }
  function fallback() {
    if (panel.getAttribute('data-map-state') === 'fallback') return;
    state('fallback');
    box.hidden = true;
    notice.textContent = box.dataset.textFailed;
    notice.className = 'warn-text small';
  }

  var points, tiles;
  try {
    points = JSON.parse(box.dataset.points || '[]');
    tiles = JSON.parse(box.dataset.tiles || '{}');
  } catch (e) {
    fallback();
    return;
  }
  if (!window.L || !tiles.url || !points.length) { fallback(); return; }
  var L = window.L;

  state('loading');
  box.hidden = false;
  var map = L.map(box, { fadeAnimation: false, zoomControl: true, attributionControl: true });
  var credit = document.createElement('span');
  credit.textContent = tiles.attribution || '';
  var layer = L.tileLayer(tiles.url, { maxZoom: tiles.max_zoom || 19, attribution: credit.innerHTML });
  var loaded = 0;
  var failed = 0;
  layer.on('tileload', function () {
    loaded += 1;
    if (panel.getAttribute('data-map-state') === 'loading') {
      state('ready');
      notice.textContent = box.dataset.textReady;
    }
  });
  layer.on('tileerror', function () { failed += 1; if (!loaded && failed >= 2) fallback(); });
  setTimeout(function () { if (!loaded) fallback(); }, TILE_TIMEOUT_MS);
  layer.addTo(map);

  // Popups and tooltips built from text nodes: names are never HTML
  // (Leaflet would set a string as innerHTML).
  function text(words) {
    var span = document.createElement('span');
    span.textContent = words;
    return span;
  }
  function popup(p) {
    var root = document.createElement('div');
    var lines = [p.time + ' · ' + p.who, p.account,
      p.distance === null ? '' : box.dataset.textMetres.replace('{distance}', p.distance),
      p.far ? box.dataset.textFar : box.dataset.textNear];
    lines.forEach(function (text, i) {
      if (!text) return;
      var line = document.createElement(i === 0 ? 'strong' : 'div');
      line.textContent = text;
      root.appendChild(line);
    });
    return root;
  }

  var bounds = [];
  points.forEach(function (p) {
    var here = [p.lat, p.lon];
    bounds.push(here);
    if (p.site) {
      bounds.push(p.site);
      L.polyline([p.site, here], { color: p.far ? '#c0261b' : '#1b7f3b', weight: 2, dashArray: '4 5', opacity: 0.8 }).addTo(map);
      L.circleMarker(p.site, { radius: 5, color: '#fff', weight: 2, fillColor: '#1d3f72', fillOpacity: 1 })
        .bindTooltip(text(box.dataset.textSite + ': ' + p.account)).addTo(map);
    }
    L.circleMarker(here, { radius: 8, color: '#fff', weight: 2, fillColor: p.far ? '#c0261b' : '#1b7f3b', fillOpacity: 0.95,
      className: p.far ? 'checkin-far' : 'checkin-near' })
      .bindPopup(popup(p)).addTo(map);
  });
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
  else map.setView(bounds[0], 16);
})();
