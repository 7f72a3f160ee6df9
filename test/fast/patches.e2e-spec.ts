import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// What keeps a patch in patches/ governed (patches/README.md): the install fails when a patch does not apply,
// and a patched package cannot move under its patch (no version range, and the lockfile holds the version
// the patch was made against). The Dockerfile's side (patches/ copied before every npm ci):
// test/fast/deploy.e2e-spec.ts.

const ROOT = resolve(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface PackageJson {
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: Record<string, unknown>;
}
const pkg = JSON.parse(read('package.json')) as PackageJson;
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
};

/** A patch-package file name, `@scope+name+1.2.3.patch` or `name+1.2.3.patch`: the package and its version. */
function patchedPackage(file: string): { name: string; version: string } {
  const match = /^(.+)\+(\d+\.\d+\.\d+[^+]*)\.patch$/.exec(file);
  if (!match || match[1]!.includes('++')) {
    throw new Error(`${file}: not a patch of a direct dependency (name+version.patch)`);
  }
  return { name: match[1]!.replace('+', '/'), version: match[2]! };
}

const patchFiles = readdirSync(join(ROOT, 'patches')).filter((file) => file.endsWith('.patch'));

describe('patches/', () => {
  it('is applied by postinstall with patch-package --error-on-fail, so a patch that does not apply fails npm ci', () => {
    expect(pkg.scripts.postinstall).toBe('patch-package --error-on-fail');
    // patch-package must be installed before the postinstall runs, in production installs too.
    expect(pkg.dependencies?.['patch-package']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('holds only patches of direct dependencies, named as patch-package names them', () => {
    expect(patchFiles.length).toBeGreaterThan(0);
    for (const file of patchFiles) {
      const { name } = patchedPackage(file);
      expect({ file, dependency: name in (pkg.dependencies ?? {}) }).toEqual({ file, dependency: true });
    }
  });

  it.each(patchFiles)(
    '%s: its package is pinned in package.json and package-lock.json to exactly the version it names',
    (file) => {
      const { name, version } = patchedPackage(file);

      expect(pkg.dependencies?.[name]).toBe(version);
      expect(lock.packages['']?.dependencies?.[name]).toBe(version);
      expect(lock.packages[`node_modules/${name}`]?.version).toBe(version);
      // No second copy elsewhere in the tree that the patch would not reach.
      const copies = Object.entries(lock.packages)
        .filter(([path]) => path.endsWith(`node_modules/${name}`))
        .map(([path, entry]) => `${path}@${entry.version}`);
      expect(copies).toEqual([`node_modules/${name}@${version}`]);
      expect(JSON.stringify(pkg.overrides ?? {})).not.toContain(`"${name}"`);
    },
  );

  it.each(patchFiles)(
    '%s: patches/README.md says what it changes and names its specs, which exist',
    (file) => {
      const readme = read('patches/README.md');
      const section = readme.slice(readme.indexOf(`\`${file}\``));

      expect(readme).toContain(`\`${file}\``);
      const specs = [...section.matchAll(/`((?:src|test)\/[\w./-]+\.(?:e2e-)?spec\.ts)`/g)].map((m) => m[1]!);
      expect(specs.length).toBeGreaterThan(0);
      for (const spec of specs) {
        expect({ spec, exists: existsSync(join(ROOT, spec)) }).toEqual({ spec, exists: true });
      }
    },
  );
});
