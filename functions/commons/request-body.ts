import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidRequestError } from '#lib/errors.ts';
import { MAX_BODY_BYTES } from '#lib/events/schema.ts';
import { issueIndexOf } from '#lib/events/validate.ts';
import { parseStrictJson, StrictJsonError } from '#lib/json/strict-json.ts';
import { toJsonPath } from '#lib/validation/zod-issues.ts';
import { HttpError, header } from './http.ts';

/**
 * What a request body's bytes mean, decided from what the client declared and nothing else: its content
 * coding (`Content-Encoding`), its character set (the `charset` of `Content-Type`) and its JSON. Each is
 * decoded as declared or refused with the reason (400 for bytes that do not decode, 413 for too many,
 * 415 for a coding or charset the ledger does not take); nothing is guessed or quietly changed.
 */

/**
 * The request body as JSON, exactly as sent, after the checks of the SPEC: a JSON media type (415), at most
 * MAX_BODY_BYTES before and after decompression (413), bytes that decode as declared (400), JSON the
 * ledger can keep as sent (400, naming the place).
 */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const { mediaType, charset } = parseContentType(header(event, 'content-type'));
  if (!/^application\/([\w.+-]+\+)?json$/.test(mediaType)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'send the body as JSON with Content-Type: application/json',
    );
  }
  return parseJsonText(decodeJsonText(readBodyBytes(event, MAX_BODY_BYTES), charset));
}

/**
 * The request body's bytes, at most `maxBytes` as sent and once decompressed (413), never empty (400).
 * Bodies arrive as bytes (base64) from the local gateway and for binary media types, and otherwise as the
 * UTF-8 text API Gateway made of them. A gzip body is decompressed here only if it still is gzip: API
 * Gateway decompresses request bodies itself and may pass the header on.
 */
export function readBodyBytes(event: APIGatewayProxyEvent, maxBytes: number): Buffer {
  const raw = event.body ?? '';
  let bytes: Buffer = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpError(
      413,
      'payload_too_large',
      `the body is ${bytes.length} bytes; the limit is ${maxBytes}`,
    );
  }
  if (looksGzipped(bytes) && /gzip/i.test(header(event, 'content-encoding') ?? '')) {
    bytes = decodeContentEncoding(bytes, 'gzip', maxBytes);
  }
  if (bytes.length === 0) {
    throw new InvalidRequestError('the body is empty', [{ index: null, path: '$', message: 'is required' }]);
  }
  return bytes;
}

/** What API Gateway decompresses before the function, and so the local gateway too. */
export const GATEWAY_CONTENT_CODINGS = ['gzip', 'x-gzip', 'deflate', 'identity'] as const;

/**
 * The body with its declared content codings undone, in reverse of the order they were applied; at most
 * `maxBytes` once decoded (a small gzip body can expand a thousandfold).
 */
export function decodeContentEncoding(
  bytes: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Buffer {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  let decoded = bytes;
  for (const coding of codings.reverse()) decoded = undoCoding(coding, decoded, maxBytes);
  return decoded;
}

/** gzip's magic number: the first two bytes of every gzip member. */
export function looksGzipped(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function undoCoding(coding: string, bytes: Buffer, maxBytes: number): Buffer {
  const options = { maxOutputLength: maxBytes };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return inflated(() => gunzipSync(bytes, options), 'gzip', maxBytes);
    case 'deflate':
      // HTTP's deflate is zlib-wrapped; some clients send the raw stream.
      return inflated(
        () => {
          try {
            return inflateSync(bytes, options);
          } catch (error) {
            if (tooLarge(error)) throw error;
            return inflateRawSync(bytes, options);
          }
        },
        'deflate',
        maxBytes,
      );
    default:
      throw new HttpError(
        415,
        'unsupported_media_type',
        `Content-Encoding ${coding} is not accepted: send the body as it is, or gzip-compressed`,
      );
  }
}

const tooLarge = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

function inflated(inflate: () => Buffer, coding: string, maxBytes: number): Buffer {
  try {
    return inflate();
  } catch (error) {
    if (tooLarge(error)) {
      throw new HttpError(413, 'payload_too_large', `the body decompresses to more than ${maxBytes} bytes`);
    }
    throw new InvalidRequestError(
      `the body is declared ${coding} (Content-Encoding) but is not ${coding} data`,
      [{ index: null, path: '$', message: `does not decode as ${coding}` }],
    );
  }
}

/** The media type and charset of a Content-Type header (`application/json; charset=UTF-8`). */
export function parseContentType(header: string | undefined): {
  mediaType: string;
  charset: string | undefined;
} {
  const [type = '', ...parameters] = (header ?? '').split(';');
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name, ...value] = parameter.split('=');
    if (name?.trim().toLowerCase() === 'charset')
      charset = value
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return { mediaType: type.trim().toLowerCase(), charset };
}

/** JSON is UTF-8 (RFC 8259 §8.1); US-ASCII is a subset of it. */
const JSON_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * The body's text, decoded from its bytes as UTF-8: the only encoding JSON has. A byte that is not UTF-8
 * is refused with its offset, never replaced by U+FFFD; another declared charset is refused (415) rather
 * than read as something it is not.
 */
export function decodeJsonText(bytes: Buffer, charset: string | undefined): string {
  if (charset !== undefined && !JSON_CHARSETS.has(charset)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `charset=${charset} is not accepted: JSON is UTF-8 (RFC 8259), so send UTF-8 and declare charset=utf-8 or nothing`,
    );
  }
  const invalidAt = firstInvalidUtf8Offset(bytes);
  if (invalidAt !== undefined) {
    throw new InvalidRequestError('the body is not valid UTF-8; nothing was stored', [
      {
        index: null,
        path: '$',
        message: `byte ${invalidAt} (0x${(bytes[invalidAt] as number).toString(16).padStart(2, '0')}) is not valid UTF-8`,
      },
    ]);
  }
  if (charset === 'us-ascii') {
    const nonAscii = bytes.findIndex((byte) => byte > 0x7f);
    if (nonAscii !== -1) {
      throw new InvalidRequestError('the body is declared US-ASCII but is not', [
        { index: null, path: '$', message: `byte ${nonAscii} is not US-ASCII; declare charset=utf-8` },
      ]);
    }
  }
  // A byte-order mark is not part of the JSON text (RFC 8259 §8.1 lets a parser ignore it).
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/** The body's JSON, read exactly (lib/json/strict-json.ts): a value it cannot keep as sent is refused where it is. */
export function parseJsonText(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    // Text that is not JSON is the body's problem; a value the ledger cannot keep is its place's.
    if (error.kind === 'syntax') {
      throw new InvalidRequestError('the body is not valid JSON', [
        { index: null, path: '$', message: `${error.message} at character ${error.offset}` },
      ]);
    }
    throw new InvalidRequestError('the body holds JSON the ledger cannot keep as sent; nothing was stored', [
      { index: issueIndexOf(error.path), path: toJsonPath(error.path), message: error.message },
    ]);
  }
}

/** Where the first byte of an invalid UTF-8 sequence is, or undefined when all of `bytes` is UTF-8. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
    else return i;
    if (i + length > bytes.length) return i;
    let codePoint = lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (codePoint < min || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return i;
    i += length;
  }
  return undefined;
}
