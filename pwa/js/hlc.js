// Hybrid logical clock, as docs/protocol.md defines it:
// "<13-digit ms>:<4 hex counter>:<node>". Plain string comparison orders two
// values, so ms is zero-padded to 13 digits and the counter to 4 hex digits.
// Pure functions only; db.js/outbox.js persist the state between calls.

const MAX_COUNTER = 0xffff;

export function parse(value) {
  const match = /^(\d{13}):([0-9a-f]{4}):(.+)$/.exec(value || '');
  if (!match) return null;
  return { ms: Number(match[1]), counter: parseInt(match[2], 16), node: match[3] };
}

export function format({ ms, counter, node }) {
  return `${String(ms).padStart(13, '0')}:${counter.toString(16).padStart(4, '0')}:${node}`;
}

// Overflowing the 4-digit counter would break string ordering, so borrow one
// millisecond instead: the clock stays monotonic and the format stays valid.
function normalise(ms, counter, node) {
  if (counter > MAX_COUNTER) return { ms: ms + 1, counter: 0, node };
  return { ms, counter, node };
}

/** The next timestamp for a local event (the "send" rule). */
export function tick(previous, node, now = Date.now()) {
  const last = parse(previous);
  if (!last || now > last.ms) return format({ ms: now, counter: 0, node });
  return format(normalise(last.ms, last.counter + 1, node));
}

/** Merge a remote timestamp (e.g. the server's server_hlc) into ours (the "receive" rule). */
export function receive(previous, remote, node, now = Date.now()) {
  const last = parse(previous) || { ms: 0, counter: 0 };
  const other = parse(remote);
  if (!other) return previous || format({ ms: now, counter: 0, node });
  const ms = Math.max(last.ms, other.ms, now);
  let counter;
  if (ms === last.ms && ms === other.ms) counter = Math.max(last.counter, other.counter) + 1;
  else if (ms === last.ms) counter = last.counter + 1;
  else if (ms === other.ms) counter = other.counter + 1;
  else counter = 0;
  return format(normalise(ms, counter, node));
}
