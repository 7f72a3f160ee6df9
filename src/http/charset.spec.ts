import { ErrorCode, ServiceError } from '../common/errors';
import { charsetParameter, decodeText, firstInvalidUtf8 } from './charset';

const refusal = (fn: () => unknown): ServiceError => {
  try {
    fn();
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected a refusal');
};

describe(decodeText.name, () => {
  it('reads the charset parameter case-insensitively, quoted or not', () => {
    expect(charsetParameter('application/json; Charset="UTF-8"')).toBe('utf-8');
    expect(charsetParameter('application/json;charset=latin1;x=y')).toBe('latin1');
    expect(charsetParameter('application/json')).toBeUndefined();
  });

  it('decodes ISO-8859-1 as itself, not as windows-1252 (0x80 is U+0080, not €)', () => {
    expect(decodeText(Buffer.from([0x80, 0xe9]), 'application/json; charset=iso-8859-1')).toBe('\u0080é');
  });

  it('drops a leading byte order mark in UTF-8 and UTF-16', () => {
    expect(decodeText(Buffer.from('\ufeffx', 'utf8'), undefined)).toBe('x');
    expect(decodeText(Buffer.from('\ufeffx', 'utf16le'), 'text/plain; charset=utf-16le')).toBe('x');
  });

  it('refuses an unknown charset with UNSUPPORTED_MEDIA_TYPE naming it', () => {
    const error = refusal(() => decodeText(Buffer.from('{}'), 'application/json; charset=koi8-r'));
    expect(error.code).toBe(ErrorCode.UnsupportedMediaType);
    expect(error.message).toMatch(/"koi8-r"/);
  });

  it('refuses a truncated UTF-16 body naming its last byte', () => {
    const error = refusal(() =>
      decodeText(Buffer.from([0x7b, 0x00, 0x7d]), 'application/json; charset=utf-16le'),
    );
    expect(error.details).toEqual([{ field: 'body', reason: expect.stringMatching(/byte offset 2$/) }]);
  });
});

describe(firstInvalidUtf8.name, () => {
  it.each([
    [[0x61, 0xc3, 0x28], 1],
    [[0xc0, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // an encoded surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
    [[0x61, 0xe2, 0x82], 1], // truncated at the end
    [[0xf0, 0x9d, 0x84, 0x9e, 0xff], 4],
  ])('finds the ill-formed sequence in %j at %i (RFC 3629 §4)', (bytes, offset) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(offset);
  });

  it('answers -1 for well-formed UTF-8', () => {
    expect(firstInvalidUtf8(Buffer.from('a é 𝄞 त'))).toBe(-1);
  });
});
