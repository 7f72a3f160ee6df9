// class-validator as patched at install (patches/class-validator+0.15.1.patch, applied by patch-package):
// - IsPhoneNumber loads libphonenumber-js (~0.5 MB of source, ~1.8 MB of heap with its metadata) the first
//   time it checks a value instead of when class-validator loads. No DTO of this service checks phone
//   numbers, so the service never loads it; a DTO that does must get the same answers as before.
// - The default container keeps its instances in a Map. Every decorator registers a constraint class of its
//   own and every check looks its instance up there; an array searched with find() made that lookup cost
//   ~1 us per Message (half of validating one).
import { getFromContainer, IsPhoneNumber, validateSync } from 'class-validator';
import { execFileSync } from 'node:child_process';

/** Runs `code` after loading class-validator in a fresh process; prints what `code` returns, as JSON. */
function inFreshProcess(code: string): unknown {
  const script = `
    const cv = require('class-validator');
    const loaded = () => Object.keys(require.cache).some((file) => file.includes('libphonenumber-js'));
    process.stdout.write(JSON.stringify((() => { ${code} })()));
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' }));
}

class Contact {
  @IsPhoneNumber('CH')
  phone!: string;
}

describe('class-validator with libphonenumber-js loaded on first use', () => {
  it('loading class-validator does not load libphonenumber-js', () => {
    expect(inFreshProcess('return loaded();')).toBe(false);
  });

  it('the first phone number checked loads it, and the answers are libphonenumber-js’ own', () => {
    expect(
      inFreshProcess(`
        const answers = [
          cv.isPhoneNumber('+41 44 668 18 00'),
          cv.isPhoneNumber('044 668 18 00', 'CH'),
          cv.isPhoneNumber('+41 44 668 18 00', 'DE'),
          cv.isPhoneNumber('+1 202-555-0'),
          cv.isPhoneNumber(' +41 44 668 18 00'),
          cv.isPhoneNumber(41446681800),
        ];
        return { answers, loaded: loaded() };
      `),
    ).toEqual({ answers: [true, true, false, false, false, false], loaded: true });
  });

  it('the decorator validates as before', () => {
    const valid = Object.assign(new Contact(), { phone: '044 668 18 00' });
    const invalid = Object.assign(new Contact(), { phone: '12' });
    expect(validateSync(valid)).toEqual([]);
    expect(validateSync(invalid).map((error) => error.constraints)).toEqual([
      { isPhoneNumber: 'phone must be a valid phone number' },
    ]);
  });
});

describe("class-validator's default container", () => {
  it('gives each constraint class one instance, looked up by key rather than searched for', () => {
    class First {}
    class Second {}
    const find = jest.spyOn(Array.prototype, 'find');
    try {
      const first = getFromContainer(First);
      expect(first).toBeInstanceOf(First);
      expect(getFromContainer(First)).toBe(first);
      expect(getFromContainer(Second)).toBeInstanceOf(Second);
      expect(getFromContainer(Second)).toBe(getFromContainer(Second));
      expect(find).not.toHaveBeenCalled();
    } finally {
      find.mockRestore();
    }
  });
});
