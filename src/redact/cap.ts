// Size cap for stored bodies: cut at a UTF-8 character boundary and say how much was cut.
const CONTINUATION_MASK = 0b1100_0000;
const CONTINUATION_BITS = 0b1000_0000;

function marker(removedBytes: number): string {
  return `…[TRUNCATED: ${removedBytes} bytes]`;
}

/** Largest cut <= limit that does not split a UTF-8 sequence. */
function boundaryAtOrBefore(bytes: Uint8Array, limit: number): number {
  let cut = Math.max(0, Math.min(limit, bytes.length));
  while (cut > 0 && cut < bytes.length && (bytes[cut] & CONTINUATION_MASK) === CONTINUATION_BITS) cut--;
  return cut;
}

/**
 * Returns `text` unchanged when it fits in `maxBytes` (UTF-8). Otherwise keeps as much as fits
 * together with the marker `…[TRUNCATED: N bytes]`, N being the bytes of `text` left out, so the
 * result is at most `maxBytes` — unless `maxBytes` is smaller than the marker itself, when the
 * result is the marker alone.
 */
export function capBody(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const totalBytes = Buffer.byteLength(text, 'utf8');
  if (totalBytes <= maxBytes) return { text, truncated: false };
  const bytes = Buffer.from(text, 'utf8');
  // The marker's length depends on N, which depends on the marker's length: two rounds settle it.
  let kept = 0;
  for (let round = 0; round < 2; round++) {
    const budget = maxBytes - Buffer.byteLength(marker(totalBytes - kept), 'utf8');
    kept = boundaryAtOrBefore(bytes, budget);
  }
  return { text: bytes.subarray(0, kept).toString('utf8') + marker(totalBytes - kept), truncated: true };
}
