import { isUtf8 } from 'node:buffer';
import { ErrorCode, InvalidInputError, ServiceError } from '../common/errors';

/*
 * A text body's bytes as the characters its Content-Type charset names: UTF-8 when it names none
 * (RFC 8259 §8.1), with a leading byte order mark ignored. Only charsets Node decodes exactly are accepted;
 * any other is a 415 naming it (never a guess), and bytes that are invalid in the charset a 400 naming the
 * offset of the first bad byte (never a replacement character written to Kafka).
 */

type Charset = 'utf-8' | 'utf-16le' | 'utf-16be' | 'iso-8859-1' | 'us-ascii';

/** Accepted labels (lower case), by the charset they name. ISO-8859-1 is decoded as itself, not windows-1252. */
const CHARSETS: Record<string, Charset> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  'iso-8859-1': 'iso-8859-1',
  iso_8859_1: 'iso-8859-1',
  'iso_8859-1': 'iso-8859-1',
  latin1: 'iso-8859-1',
  l1: 'iso-8859-1',
  'us-ascii': 'us-ascii',
  ascii: 'us-ascii',
};

export const SUPPORTED_CHARSETS = 'utf-8, utf-16le, utf-16be, iso-8859-1 (latin1), us-ascii';

const CHARSET_PARAMETER = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/** The charset a Content-Type names (lower case), or undefined when it names none. */
export function charsetParameter(contentType: string | undefined): string | undefined {
  const match = CHARSET_PARAMETER.exec(contentType ?? '');
  return match ? (match[1] ?? match[2] ?? '').toLowerCase() : undefined;
}

function invalidAt(charset: Charset, offset: number): InvalidInputError {
  return new InvalidInputError(
    [{ field: 'body', reason: `not valid ${charset}: invalid byte sequence at byte offset ${offset}` }],
    'Malformed body',
  );
}

/** Offset of the first ill-formed UTF-8 sequence (RFC 3629 §4), or -1 when there is none. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = b === 0xe0 ? 0xa0 : 0x80;
      max = b === 0xed ? 0x9f : 0xbf;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = b === 0xf0 ? 0x90 : 0x80;
      max = b === 0xf4 ? 0x8f : 0xbf;
    } else {
      return i;
    }
    for (let k = 1; k < length; k += 1) {
      const c = bytes[i + k];
      const [low, high] = k === 1 ? [min, max] : [0x80, 0xbf];
      if (c === undefined || c < low || c > high) {
        return i;
      }
    }
    i += length;
  }
  return -1;
}

/** Offset of the first byte of an unpaired surrogate or of a trailing odd byte, in UTF-16 little-endian. */
function firstInvalidUtf16le(bytes: Buffer): number {
  const units = Math.floor(bytes.length / 2);
  for (let u = 0; u < units; u += 1) {
    const unit = bytes.readUInt16LE(u * 2);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = u + 1 < units ? bytes.readUInt16LE((u + 1) * 2) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        u += 1;
        continue;
      }
      return u * 2;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return u * 2;
    }
  }
  return bytes.length % 2 === 1 ? bytes.length - 1 : -1;
}

function decodeUtf16le(bytes: Buffer, charset: Charset): string {
  const bad = firstInvalidUtf16le(bytes);
  if (bad >= 0) {
    throw invalidAt(charset, bad);
  }
  const text = bytes.toString('utf16le');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Decodes a body by its Content-Type's charset, or throws (415 unknown charset, 400 invalid bytes). */
export function decodeText(bytes: Buffer, contentType: string | undefined): string {
  const label = charsetParameter(contentType);
  const charset = label === undefined ? 'utf-8' : CHARSETS[label];
  if (charset === undefined) {
    throw new ServiceError(
      ErrorCode.UnsupportedMediaType,
      `Unsupported charset "${(label ?? '').slice(0, 40)}": use one of ${SUPPORTED_CHARSETS}`,
    );
  }
  switch (charset) {
    case 'utf-8': {
      if (!isUtf8(bytes)) {
        throw invalidAt(charset, firstInvalidUtf8(bytes));
      }
      const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
      return bytes.toString('utf8', hasBom ? 3 : 0);
    }
    case 'utf-16le':
      return decodeUtf16le(bytes, charset);
    case 'utf-16be': {
      const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
      swapped.swap16();
      return decodeUtf16le(
        bytes.length % 2 === 1 ? Buffer.concat([swapped, bytes.subarray(-1)]) : swapped,
        charset,
      );
    }
    case 'iso-8859-1':
      return bytes.toString('latin1');
    case 'us-ascii': {
      const bad = bytes.findIndex((byte) => byte > 0x7f);
      if (bad >= 0) {
        throw invalidAt(charset, bad);
      }
      return bytes.toString('latin1');
    }
  }
}
