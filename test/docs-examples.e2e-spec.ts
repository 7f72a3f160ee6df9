import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunningApp, startApp } from './support/app';
import { eventually } from './support/eventually';
import { CurlExample, curlExamples, documentationFiles } from './support/docs';

const run = promisify(execFile);

/**
 * Every curl example of README.md and docs/*.md, run with curl itself against a live service on the
 * e2e tier's broker: `http://localhost:8080` becomes the test app's address, and the answer's status must
 * be the one the `# → <status>` line after the example states. An example with a `# needs: NAME=value`
 * line runs against an app started with that environment. The convention: docs/development.md.
 */
const files = documentationFiles();
const collected = files.map((file) => ({ file, ...curlExamples(file) }));

describe('the documentation’s curl examples, run against the live service', () => {
  const apps = new Map<string, Promise<RunningApp>>();
  const dir = mkdtempSync(join(tmpdir(), 'docs-examples-'));

  /** One app per distinct environment, started when an example first needs it and ready for traffic. */
  function appFor(env: Record<string, string>): Promise<RunningApp> {
    const key = JSON.stringify(Object.entries(env).sort());
    let app = apps.get(key);
    if (!app) {
      app = startApp(env).then(async (running) => {
        await eventually(async () => {
          const response = await fetch(`${running.url}/actuator/health/readiness`);
          if (response.status !== 200) {
            throw new Error(`readiness ${response.status}`);
          }
        }, 30000);
        return running;
      });
      apps.set(key, app);
    }
    return app;
  }

  afterAll(async () => {
    for (const app of apps.values()) {
      await (await app).close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function curl(example: CurlExample, url: string): Promise<{ status: number; body: string }> {
    const out = join(dir, 'body');
    const args = example.args.map((arg) => arg.split('http://localhost:8080').join(url));
    const { stdout } = await run('curl', [
      ...args,
      '-sS',
      '--max-time',
      '30',
      '-o',
      out,
      '-w',
      '%{http_code}',
    ]);
    return { status: Number(stdout.trim()), body: readFileSync(out, 'utf8') };
  }

  it('finds the examples: one per endpoint in the README, and none without its status line', () => {
    const all = collected.flatMap((entry) => entry.examples);

    expect(collected.flatMap((entry) => entry.problems)).toEqual([]);
    expect(all.filter((example) => example.file === 'README.md').length).toBeGreaterThanOrEqual(6);
    expect(all.filter((example) => example.file === 'docs/api.md').length).toBeGreaterThanOrEqual(10);
  });

  for (const { file, examples } of collected.filter((entry) => entry.examples.length > 0)) {
    describe(file, () => {
      for (const example of examples) {
        const target = example.args.find((arg) => arg.includes('localhost:8080')) ?? '?';
        const needs =
          Object.keys(example.env).length > 0 ? ` (with ${Object.keys(example.env).join(', ')})` : '';
        it(`line ${example.line}: ${target.replace('http://localhost:8080', '')} answers ${example.expectedStatus}${needs}`, async () => {
          const running = await appFor(example.env);
          const { status, body } = await curl(example, running.url);

          // The body is in the comparison so that a wrong status shows what the service said.
          expect({ status, body: status === example.expectedStatus ? '' : body }).toEqual({
            status: example.expectedStatus,
            body: '',
          });
        });
      }
    });
  }
});
