import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionCap, openFileSoftLimit, RESERVED_FILE_DESCRIPTORS } from './open-file-limit';

const limitsFile = (openFiles: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'limits-')), 'limits');
  writeFileSync(
    file,
    'Limit                     Soft Limit           Hard Limit           Units\n' +
      'Max cpu time              unlimited            unlimited            seconds\n' +
      `Max open files            ${openFiles}                files\n`,
  );
  return file;
};

describe(openFileSoftLimit.name, () => {
  it('reads the soft limit of open files from /proc/self/limits', () => {
    expect(openFileSoftLimit(limitsFile('1024                 524288'))).toBe(1024);
  });

  it('is undefined when unlimited or unreadable', () => {
    expect(openFileSoftLimit(limitsFile('unlimited            unlimited'))).toBeUndefined();
    expect(openFileSoftLimit('/nonexistent/limits')).toBeUndefined();
  });
});

describe(connectionCap.name, () => {
  it('keeps HTTP_MAX_CONNECTIONS when the open-file limit leaves room for it', () => {
    expect(connectionCap(8192, 1048576)).toBe(8192);
  });

  it('bounds it by the open-file limit less the reserved descriptors', () => {
    expect(connectionCap(8192, 1024)).toBe(1024 - RESERVED_FILE_DESCRIPTORS);
  });

  it('keeps it when the limit is unknown', () => {
    expect(connectionCap(8192, undefined)).toBe(8192);
  });
});
