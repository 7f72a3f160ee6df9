import { existsSync } from 'node:fs';
import { Browser, chromium, Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../scripts/ensure-tools';
import { RunningApp, startApp } from './support/app';
import { get, post } from './support/http';
import { kcatRead } from './support/kcat';
import { OpenApiDocument, Schema } from './support/openapi';

/** Every wait of the browser is bounded; Swagger UI renders in well under a second here. */
const UI_TIMEOUT_MS = 15000;

/** A request body built only from the examples the document gives for a schema's properties. */
function exampleOf(schema: Schema): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, p]) => [name, p.example]));
}

// The document itself (valid, complete, error shapes, security): test/fast/openapi.e2e-spec.ts, no broker.
describe('The documented API against the live service (real broker)', () => {
  let running: RunningApp;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    running = await startApp();
    doc = (await get<OpenApiDocument>(`${running.url}/api/docs-json`)).body;
  });
  afterAll(async () => {
    await running?.close();
  });

  it('gives a Message example the live service accepts, answering with exactly the documented fields', async () => {
    const example = exampleOf(doc.components.schemas.MessageDto!);
    const sendResult = doc.components.schemas.SendResultDto!;

    const result = await post(`${running.url}/api/messages`, example);

    expect(result.status).toBe(200);
    expect(Object.keys(result.body).sort()).toEqual(Object.keys(sendResult.properties ?? {}).sort());
    expect(result.body).toMatchObject({ status: 'success', messageId: example.id });
  });

  describe('Swagger UI at /api/docs, in a real browser (headless Debian chromium)', () => {
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      if (!existsSync(CHROMIUM_PATH)) {
        throw new Error(
          `${CHROMIUM_PATH} is missing: install Debian's chromium (node scripts/ensure-tools.js)`,
        );
      }
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        timeout: UI_TIMEOUT_MS,
      });
      page = await browser.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('sends a message with "Try it out" and shows the 200 with the partition and offset the broker gave it', async () => {
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      await page.goto(`${running.url}/api/docs`);
      const operation = page.locator('.opblock-post', {
        has: page.locator('.opblock-summary-path[data-path="/api/messages"]'),
      });
      await operation.locator('.opblock-summary').click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation
        .locator('textarea.body-param__text')
        .fill(JSON.stringify({ content: 'sent from Swagger UI', type: 'INFO', source: 'swagger-ui-test' }));
      await operation.locator('tr[data-param-name="key"] input').fill('swagger-ui-key');
      await operation.getByRole('button', { name: 'Execute' }).click();

      const live = operation.locator('.live-responses-table .response');
      await live.locator('.response-col_status').waitFor();
      expect((await live.locator('.response-col_status').innerText()).trim()).toBe('200');
      const shown = JSON.parse(await live.locator('.response-col_description pre').first().innerText()) as {
        status: string;
        messageId: string;
        topic: string;
        partition: number;
        offset: number;
      };
      expect(shown).toMatchObject({
        status: 'success',
        topic: 'demo-topic',
        partition: expect.any(Number) as number,
        offset: expect.any(Number) as number,
      });
      // What the page showed is where the record is: read back by an independent client.
      const [record] = kcatRead(shown.topic, shown.partition, shown.offset);
      expect(record?.key).toBe('swagger-ui-key');
      expect(JSON.parse(record?.payload ?? '{}')).toMatchObject({
        id: shown.messageId,
        content: 'sent from Swagger UI',
        type: 'INFO',
        source: 'swagger-ui-test',
      });
      expect(pageErrors).toEqual([]);
    });
  });
});
