import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { BLOCK_BEGIN, BLOCK_END, renderMarkdown } from '../../bench/report';
import {
  curlExamples,
  documentationFiles,
  headingAnchors,
  linkTargets,
  readDoc,
  ROOT,
  splitFences,
} from '../support/docs';

/** The variables `src/config/environment.ts` declares: the properties of its Environment class. */
function environmentVariables(): string[] {
  const source = readFileSync(join(ROOT, 'src', 'config', 'environment.ts'), 'utf8');
  const start = source.indexOf('export class Environment');
  const end = source.indexOf('\n}\n', start);
  const body = source.slice(start, end);
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\??\s*[:=]/gm)].map((match) => match[1] ?? '');
}

/** The variables the table of docs/configuration.md documents (rows starting with a variable name). */
function documentedVariables(): string[] {
  return [
    ...splitFences(readDoc('docs/configuration.md')).prose.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm),
  ].map((match) => match[1] ?? '');
}

/** The variables .env.example sets or shows commented out (`NAME=value` or `# NAME=value`). */
function exampleVariables(): string[] {
  return [...readDoc('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? '');
}

const sorted = (names: string[]): string[] => [...new Set(names)].sort();

describe('documentation', () => {
  it('finds the Environment class and its variables in src/config/environment.ts', () => {
    const variables = environmentVariables();

    expect(variables.length).toBeGreaterThan(50);
    expect(variables).toEqual(
      expect.arrayContaining(['KAFKA_BROKERS', 'SEND_TIMEOUT_MS', 'SHUTDOWN_TIMEOUT_MS']),
    );
  });

  it('docs/configuration.md documents every variable environment.ts reads, once, and no other', () => {
    const documented = documentedVariables();

    expect(sorted(documented)).toEqual(sorted(environmentVariables()));
    expect(documented.length).toBe(new Set(documented).size);
  });

  it('.env.example names every variable environment.ts reads, and only those', () => {
    expect(sorted(exampleVariables())).toEqual(sorted(environmentVariables()));
  });

  it('every relative link in README.md, docs/*.md and patches/README.md resolves to a file in the repository, every #anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of documentationFiles()) {
      for (const { target, line } of linkTargets(readDoc(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          continue; // http:, https:, mailto:
        }
        const [path = '', anchor] = target.split('#');
        const resolved =
          path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), decodeURIComponent(path));
        const where = `${file}:${line} → ${target}`;
        if (relative(ROOT, resolved).startsWith('..')) {
          broken.push(`${where}: outside the repository`);
        } else if (!existsSync(resolved)) {
          broken.push(`${where}: no such file`);
        } else if (anchor !== undefined) {
          if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
            broken.push(`${where}: an anchor into something that is not a Markdown file`);
          } else if (!headingAnchors(readFileSync(resolved, 'utf8')).has(anchor)) {
            broken.push(`${where}: no heading with that anchor`);
          }
        }
      }
    }

    expect(broken).toEqual([]);
  });

  it('README.md and docs/ carry no history: no paths outside the repository, no issue numbers', () => {
    const found: string[] = [];
    for (const file of documentationFiles()) {
      readDoc(file)
        .split('\n')
        .forEach((line, index) => {
          for (const pattern of [
            /\.\.\/shared/,
            /compare\.sh/,
            /\bissue\s+#?\d+/i,
            /(^|[\s(])#\d+\b/,
            /\bthe seed\b/i,
          ]) {
            if (pattern.test(line)) {
              found.push(`${file}:${index + 1}: ${line.trim()}`);
            }
          }
        });
    }

    expect(found).toEqual([]);
  });

  it('keeps the README a five-minute read (at most 15 KB)', () => {
    expect(Buffer.byteLength(readDoc('README.md'))).toBeLessThanOrEqual(15 * 1024);
  });

  it('the benchmark block in docs/performance.md is renderMarkdown(bench/results/latest.json)', () => {
    const page = readDoc('docs/performance.md');
    const begin = page.indexOf(BLOCK_BEGIN);
    const end = page.indexOf(BLOCK_END);
    const results: unknown = JSON.parse(readDoc('bench/results/latest.json'));

    expect(begin).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(begin);
    expect(page.slice(begin + BLOCK_BEGIN.length, end).trim()).toBe(renderMarkdown(results).trim());
  });

  it('every curl example in README.md and docs/ states the HTTP status it expects (test/docs-examples.e2e-spec.ts runs them)', () => {
    const problems = documentationFiles().flatMap((file) => curlExamples(file).problems);
    const perEndpoint = ['/api/messages?', '/api/messages/simple', '/api/messages/batch', '/api/events'].map(
      (path) =>
        curlExamples('README.md').examples.some((example) => example.args.some((arg) => arg.includes(path))),
    );

    expect(problems).toEqual([]);
    expect(perEndpoint).toEqual([true, true, true, true]);
  });
});
