// In-tab event bus plus a BroadcastChannel, so that a change written or
// synced in one tab refreshes the screens of the others.

const bus = new EventTarget();
const channel = 'BroadcastChannel' in globalThis ? new BroadcastChannel('fieldvisit') : null;

export function emit(type, detail = {}, { broadcast = false } = {}) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
  if (broadcast && channel) channel.postMessage({ type, detail });
}

export function on(type, handler) {
  const listener = (event) => handler(event.detail || {});
  bus.addEventListener(type, listener);
  return () => bus.removeEventListener(type, listener);
}

if (channel) {
  channel.onmessage = (event) => {
    const { type, detail } = event.data || {};
    if (type) bus.dispatchEvent(new CustomEvent(type, { detail: { ...detail, remote: true } }));
  };
}
