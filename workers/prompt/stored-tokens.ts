/**
 * Token ids stored with a message, so a later turn does not tokenize its history again: how they
 * are packed into bytes, and the key that says exactly what they encode. Pure: no I/O.
 *
 * A message's ids are the encoding of one text piece — the message's piece in the prompt layout,
 * neutralised by its family, with or without the dummy prefix — by one tokenizer. The key names
 * all of that: the tokenizer's revision (its name and a fingerprint of how it encodes), the dummy
 * prefix, the byte width and number of ids, and a hash of the exact piece text. Stored ids are used only when the
 * key computed for the piece a prompt needs now is the same, so they always equal what encoding
 * the message would give today: a model moved to another tokenizer or family, a neutraliser that
 * changed, or a different layout of the message all make the key differ, and the text is encoded.
 */

/** Bytes per id: 2 while every id fits (LLaMA's and Mistral's vocabularies have 32,000 and 32,002), else 4. */
export type IdWidth = 2 | 4;

/** Stored bytes as D1 hands them back (an array of byte values) or as they were bound. */
export type StoredBytes = ArrayLike<number> | ArrayBuffer | ArrayBufferView;

/** A message's stored encoding: its key and its packed ids. */
export interface StoredTokens {
  key: string;
  bytes: StoredBytes;
}

/** Ids packed little-endian, 2 bytes each when all fit, else 4; the width goes into the key. */
export function packTokenIds(ids: readonly number[]): { width: IdWidth; bytes: Uint8Array } {
  let max = 0;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new RangeError(`not a token id: ${id}`);
    if (id > max) max = id;
  }
  const width: IdWidth = max <= 0xffff ? 2 : 4;
  const bytes = new Uint8Array(ids.length * width);
  const view = new DataView(bytes.buffer);
  ids.forEach((id, i) => (width === 2 ? view.setUint16(i * 2, id, true) : view.setUint32(i * 4, id, true)));
  return { width, bytes };
}

function byteArray(stored: StoredBytes): ArrayLike<number> {
  if (stored instanceof ArrayBuffer) return new Uint8Array(stored);
  if (ArrayBuffer.isView(stored)) return new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
  return stored;
}

/** The ids packed in `stored`, or null when its length is not a whole number of ids. */
export function unpackTokenIds(stored: StoredBytes, width: IdWidth): number[] | null {
  const b = byteArray(stored);
  if (b.length % width !== 0) return null;
  const ids = new Array<number>(b.length / width);
  for (let i = 0, at = 0; i < ids.length; i++, at += width) {
    // Byte values from D1's array: anything else is a damaged row, not ids.
    ids[i] = width === 2 ? b[at]! | (b[at + 1]! << 8) : (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000;
  }
  return ids;
}

/**
 * A 53-bit hash of a text's UTF-16 code units (cyrb53), as 11 base-36 digits. Not a defence
 * against chosen collisions, and needs not be: the text hashed now and the text hashed when the
 * ids were stored come from the same stored message, so they differ only if the code that lays
 * out or neutralises it changed in between.
 */
export function textHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36).padStart(11, "0");
}

// The count makes bytes of another length or width (a damaged or mixed-up row) fail the check.
function keyOf(revision: string, leadingSpace: boolean, width: IdWidth, count: number, hash: string): string {
  return `${revision}:${leadingSpace ? "s" : "n"}${width * 8}x${count}:${hash}`;
}

/** The key of `count` ids that encode `text` (leadingSpace: with the dummy prefix) with the tokenizer of `revision`. */
export function tokensKey(revision: string, leadingSpace: boolean, width: IdWidth, count: number, text: string): string {
  return keyOf(revision, leadingSpace, width, count, textHash(text));
}

/**
 * The stored ids if they encode `text` as the prompt needs it now (same tokenizer revision,
 * dummy prefix and text), else null. The width is read from the key, which was checked whole.
 */
export function reusableIds(stored: StoredTokens, revision: string, leadingSpace: boolean, text: string): number[] | null {
  // Another tokenizer's ids are refused before the text is hashed.
  if (!stored.key.startsWith(`${revision}:`)) return null;
  const hash = textHash(text);
  const length = byteArray(stored.bytes).length;
  for (const width of [2, 4] as const) {
    if (stored.key === keyOf(revision, leadingSpace, width, length / width, hash)) return unpackTokenIds(stored.bytes, width);
  }
  return null;
}
