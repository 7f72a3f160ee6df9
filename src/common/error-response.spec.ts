import { bounded, errorBody } from './error-response';
import { ErrorCode } from './errors';

describe(errorBody.name, () => {
  it('bounds everything it echoes: message, details, fields, reasons and path', () => {
    const long = 'k'.repeat(12000);
    const body = errorBody(400, {
      code: ErrorCode.InvalidInput,
      message: `Validation failed: ${long}: property ${long} should not exist`,
      details: Array.from({ length: 200 }, () => ({
        field: long,
        reason: `property ${long} should not exist`,
      })),
      requestId: 'r',
      path: `/${long}`,
    });

    expect(JSON.stringify(body).length).toBeLessThan(32 * 1024);
    expect(body.message).toHaveLength(1024);
    expect(body.details).toHaveLength(50);
    expect(body.details![0]!.field).toHaveLength(128);
    expect(body.details![0]!.reason).toHaveLength(256);
    expect(body.path).toHaveLength(512);
  });

  it('keeps short texts as they are', () => {
    const body = errorBody(404, {
      code: ErrorCode.NotFound,
      message: 'Cannot GET /x',
      requestId: 'r',
      path: '/x',
    });
    expect(body).toMatchObject({ message: 'Cannot GET /x', path: '/x' });
    expect(body).not.toHaveProperty('details');
  });
});

describe(bounded.name, () => {
  it('marks a cut with … and never splits a surrogate pair', () => {
    expect(bounded('abcdef', 4)).toBe('abc…');
    const cut = bounded('ab𝄞𝄞', 4);
    expect(cut.length).toBeLessThanOrEqual(4);
    expect(cut.endsWith('…')).toBe(true);
    expect((cut as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  });
});
