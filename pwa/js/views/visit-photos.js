// Photos and a signature on the visit screen. A photo from the camera (or
// picked from the phone) is made smaller here before it is kept — longest
// side 1600 px, JPEG, drawn through a canvas, which leaves the camera's EXIF
// data (its own position, the phone's model) behind — and our own position,
// accuracy and time are recorded beside it. Its bytes and its record go into
// IndexedDB in one transaction with the outbox entry (js/outbox.js); the
// upload follows the record's push (js/uploads.js). Each tile says where its
// bytes are: waiting, sending n %, sent.

import { h } from '../dom.js';
import { t, tv, formatDateTime, formatNumber } from '../i18n.js';
import { recordChanges } from '../outbox.js';
import { uuid } from '../ids.js';
import { isoInZone, isoLocal, parseInstant } from '../time.js';
import { getPosition } from '../geo.js';
import { emit, on } from '../events.js';
import { transact, req } from '../db.js';
import { blobsOfVisit, sha256Hex } from '../uploads.js';

export const MAX_SIDE = 1600;
const TARGET_BYTES = 400 * 1024;
const THUMB_SIDE = 240;
const QUALITIES = [0.82, 0.72, 0.6];

async function decode(file) {
  if ('createImageBitmap' in window) {
    try { return await createImageBitmap(file, { imageOrientation: 'from-image' }); } catch { /* fall back */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function draw(source, maxSide) {
  const width = source.width || source.naturalWidth;
  const height = source.height || source.naturalHeight;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext('2d').drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas;
}

const toBlob = (canvas, type, quality) => new Promise((resolve, reject) => {
  canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the picture could not be encoded'))), type, quality);
});

/** A picture as a JPEG of at most `maxSide` px (typically under 400 KB), and a small preview. */
export async function shrinkPhoto(file, maxSide = MAX_SIDE) {
  const source = await decode(file);
  const canvas = draw(source, maxSide);
  let blob = null;
  for (const quality of QUALITIES) {
    blob = await toBlob(canvas, 'image/jpeg', quality);
    if (blob.size <= TARGET_BYTES) break;
  }
  const thumb = await toBlob(draw(canvas, THUMB_SIDE), 'image/jpeg', 0.7);
  source.close?.();
  return { blob, thumb, width: canvas.width, height: canvas.height };
}

/** Keep one attachment: its record, its outbox entry and its bytes, in one transaction. */
async function keep(ctx, visit, account, kind, blob, thumb, position) {
  const { session } = ctx;
  const zone = account?.timezone || 'UTC';
  const id = uuid();
  const fields = {
    visit_id: visit.id, kind, content_type: blob.type, byte_size: blob.size, sha256: await sha256Hex(blob),
    taken_at: isoInZone(new Date(), zone),
  };
  if (position?.ok) {
    fields.lat = Number(position.lat.toFixed(6));
    fields.lon = Number(position.lon.toFixed(6));
    fields.accuracy_m = Math.round(position.accuracy);
  }
  await recordChanges(session, [{ entity: 'attachment', id, fields, summary: { account: account?.customer_name } }], {
    blobs: [{
      id, visit_id: visit.id, account_id: visit.account_id, kind, content_type: blob.type, byte_size: blob.size,
      sha256: fields.sha256, blob, thumb, state: 'waiting', received: 0, created_at: isoLocal(), created_ms: Date.now(),
      user_id: session.user.id,
    }],
  });
  emit('upload-progress', { id });
  return id;
}

function stateText(row) {
  if (!row) return t('photos.state.sent');
  if (row.state === 'uploading' && row.byte_size) {
    return t('photos.state.uploading', { percent: formatNumber(Math.floor((100 * (row.received || 0)) / row.byte_size), 0) });
  }
  return t(`photos.state.${row.state || 'waiting'}`);
}

function tile(item, zone, urls) {
  const { row, record } = item;
  const picture = row?.blob || row?.thumb;
  let preview;
  if (picture) {
    const url = URL.createObjectURL(picture);
    urls.push(url);
    preview = h('img', { class: 'photo-thumb', src: url, alt: tv('attachment_kind', row.kind) });
  } else {
    preview = h('span', { class: 'photo-thumb photo-none' }, tv('attachment_kind', (row || record).kind));
  }
  const state = row?.state || (record?.uploaded ? 'sent' : 'waiting');
  const when = parseInstant(record?.taken_at || row?.created_at);
  return h('li', { class: 'photo', 'data-attachment': item.id, 'data-upload-state': state },
    preview,
    h('span', { class: 'photo-caption' },
      h('strong', null, tv('attachment_kind', (row || record).kind)), ' · ', when ? formatDateTime(when, zone) : ''),
    h('span', { class: `badge badge-${state === 'sent' ? 'sent' : 'pending'}`, 'data-testid': 'upload-state' }, stateText(row || { state })));
}

async function items(visitId) {
  const rows = await blobsOfVisit(visitId);
  const records = await transact('attachments', 'readonly', (s) => req(s.attachments.index('by_visit').getAll(visitId)));
  const byId = new Map(rows.map((row) => [row.id, { id: row.id, row }]));
  for (const record of records) {
    const found = byId.get(record.id);
    if (found) found.record = record;
    else byId.set(record.id, { id: record.id, record });
  }
  // In the order they were taken (a record from another phone has only its time).
  const order = (item) => item.row?.created_ms ?? (Date.parse(item.record?.taken_at) || 0);
  return [...byId.values()].sort((a, b) => order(a) - order(b));
}

function signaturePad(onSave, onCancel) {
  const canvas = h('canvas', { class: 'signature-pad', 'data-testid': 'signature-pad', 'aria-label': t('photos.sign_here') });
  let drawn = false;
  let last = null;
  const ctx2d = () => canvas.getContext('2d');
  const fit = () => {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const c = ctx2d();
    c.scale(ratio, ratio);
    c.lineWidth = 2.5;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.strokeStyle = '#111';
    c.fillStyle = '#fff';
    c.fillRect(0, 0, width, height);
  };
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture?.(event.pointerId);
    last = point(event);
    const c = ctx2d();
    c.beginPath();
    c.arc(last[0], last[1], 1.2, 0, Math.PI * 2);
    c.fillStyle = '#111';
    c.fill();
    drawn = true;
    save.disabled = false;
    event.preventDefault();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = point(event);
    const c = ctx2d();
    c.beginPath();
    c.moveTo(...last);
    c.lineTo(...next);
    c.stroke();
    last = next;
    event.preventDefault();
  });
  const stop = () => { last = null; };
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);
  const clear = h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'signature-clear' }, t('photos.clear'));
  const save = h('button', { class: 'btn btn-primary', type: 'button', 'data-testid': 'signature-save', disabled: true }, t('photos.save_signature'));
  const cancel = h('button', { class: 'btn btn-secondary', type: 'button' }, t('photos.cancel'));
  clear.addEventListener('click', () => { fit(); drawn = false; save.disabled = true; });
  save.addEventListener('click', async () => {
    if (!drawn) return;
    save.disabled = true;
    onSave(await toBlob(canvas, 'image/png'));
  });
  cancel.addEventListener('click', onCancel);
  const node = h('div', { class: 'signature', 'data-testid': 'signature' },
    h('p', { class: 'hint' }, t('photos.sign_hint')), canvas, h('div', { class: 'row-actions' }, clear, save, cancel));
  requestAnimationFrame(fit);
  return node;
}

/** The visit screen's section: buttons to add, tiles with their upload state. */
export async function visitPhotos(ctx, visit, account) {
  const zone = account?.timezone || 'UTC';
  const list = h('ul', { class: 'photos', 'data-testid': 'photos' });
  const status = h('p', { class: 'hint', 'aria-live': 'polite' });
  const padHolder = h('div');
  let urls = [];

  async function refresh() {
    const found = await items(visit.id);
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    list.replaceChildren(...found.map((item) => tile(item, zone, urls)));
    if (!found.length) list.replaceChildren(h('li', { class: 'muted' }, t('photos.none')));
  }

  const position = () => getPosition({ timeoutMs: 10000 });
  async function addPhoto(file) {
    if (!file) return;
    status.textContent = t('photos.preparing');
    try {
      const [shrunk, where] = await Promise.all([shrinkPhoto(file), position()]);
      await keep(ctx, visit, account, 'photo', shrunk.blob, shrunk.thumb, where);
      status.textContent = t('photos.kept', { size: formatNumber(shrunk.blob.size / 1024, 0) });
    } catch (error) {
      status.textContent = t('photos.failed', { message: String(error?.message || error) });
    }
    await refresh();
  }

  const input = (testid, capture) => {
    const el = h('input', { type: 'file', accept: 'image/*', capture: capture ? 'environment' : null, class: 'visually-hidden', 'data-testid': testid });
    el.addEventListener('change', async () => {
      for (const file of [...el.files]) await addPhoto(file);
      el.value = '';
    });
    return el;
  };
  const camera = h('label', { class: 'btn btn-primary photo-button', 'data-testid': 'take-photo' }, t('photos.take'), input('photo-camera', true));
  const pick = h('label', { class: 'btn btn-secondary photo-button', 'data-testid': 'pick-photo' }, t('photos.pick'), input('photo-pick', false));
  const sign = h('button', { class: 'btn btn-secondary photo-button', type: 'button', 'data-testid': 'add-signature' }, t('photos.signature'));
  sign.addEventListener('click', () => {
    sign.hidden = true;
    padHolder.replaceChildren(signaturePad(async (png) => {
      const where = await position();
      await keep(ctx, visit, account, 'signature', png, png, where);
      padHolder.replaceChildren();
      sign.hidden = false;
      sign.textContent = t('photos.sign_again');
      status.textContent = t('photos.signature_kept');
      await refresh();
    }, () => { padHolder.replaceChildren(); sign.hidden = false; }));
  });

  const section = h('section', { class: 'visit-photos', 'data-testid': 'visit-photos' },
    h('h2', null, t('photos.title')),
    h('p', { class: 'hint' }, t('photos.explain')),
    h('div', { class: 'row-actions photo-actions' }, camera, pick, sign),
    padHolder, status, list);
  // Progress of the uploads, shown in place: a screen holding the outcome
  // form is not redrawn by a sync (js/app.js), this section still is.
  // Once the screen has moved on (the section was shown and is gone), stop.
  let shown = false;
  const follow = (type) => {
    const stop = on(type, () => {
      if (section.isConnected) { shown = true; refresh(); } else if (shown) stop();
    });
  };
  follow('upload-progress');
  follow('data-changed');
  await refresh();
  return section;
}
