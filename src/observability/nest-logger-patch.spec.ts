// @nestjs/common as patched at install (patches/@nestjs+common+11.2.10.patch, applied by patch-package): its
// two loggers make their Intl.DateTimeFormat on first use instead of when the module loads. Making one loads
// ICU's date-time data, ~8 MB of RSS in a process whose logs all go through pino and never need it. Their
// timestamps must not change.
import { ConsoleLogger, Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';

const NEST_FORMAT: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  day: '2-digit',
  month: '2-digit',
};

/** Loads @nestjs/common and @nestjs/core in a fresh process and counts the DateTimeFormats made meanwhile. */
function dateTimeFormatsMadeBy(code: string): number {
  const counted = `
    let made = 0;
    const Real = Intl.DateTimeFormat;
    Intl.DateTimeFormat = new Proxy(Real, {
      construct: (target, args) => { made += 1; return Reflect.construct(target, args); },
      apply: (target, self, args) => { made += 1; return Reflect.apply(target, self, args); },
    });
    require('reflect-metadata');
    const common = require('@nestjs/common');
    require('@nestjs/core');
    ${code}
    process.stdout.write(String(made));
  `;
  return Number(execFileSync(process.execPath, ['-e', counted], { cwd: __dirname, encoding: 'utf8' }));
}

describe('Nest loggers with a date formatter made on first use', () => {
  afterEach(() => jest.restoreAllMocks());

  it('loading @nestjs/common and @nestjs/core makes no Intl.DateTimeFormat', () => {
    expect(dateTimeFormatsMadeBy('')).toBe(0);
  });

  it('makes it once, when a timestamp is first needed', () => {
    expect(dateTimeFormatsMadeBy('common.Logger.getTimestamp(); common.Logger.getTimestamp();')).toBe(1);
    expect(
      dateTimeFormatsMadeBy('const l = new common.ConsoleLogger(); l.getTimestamp(); l.getTimestamp();'),
    ).toBe(1);
  });

  it('formats timestamps as unpatched Nest does', () => {
    const at = Date.UTC(2026, 10, 26, 9, 5, 7);
    jest.spyOn(Date, 'now').mockReturnValue(at);
    const expected = new Intl.DateTimeFormat(undefined, NEST_FORMAT).format(at);
    expect(Logger.getTimestamp()).toBe(expected);
    expect((new ConsoleLogger() as unknown as { getTimestamp(): string }).getTimestamp()).toBe(expected);
  });
});
