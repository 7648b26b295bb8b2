import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { signUp } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

/** Debian's Chromium (.ci/run installs it); the browser test needs nothing from the network. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts');

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('GraphiQL', () => {
  it('runs a query with an Authorization header, offline, from the server alone', async () => {
    const user = await signUp(server, 'ide');
    const page = await browser.newPage();
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));

    await page.goto(`${server.url}/`);
    await page.click('a[href="/graphiql"]');
    await page.waitForSelector('.graphiql-query-editor .monaco-editor', { timeout: 30_000 });

    // The query editor: replace its content with our query.
    await page.click('.graphiql-query-editor .monaco-editor');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ viewer { id credential } }');

    // The headers editor, for Authorization.
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await page.click('.graphiql-editor-tool .monaco-editor:visible');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Token ${user.userKey}` }));

    await page.click('.graphiql-execute-button');
    const response = page.locator('.graphiql-response');
    await response.getByText(user.id).waitFor({ timeout: 30_000 });
    await response.getByText('USER_KEY').waitFor();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql.png'), fullPage: true });
    expect([...origins]).toEqual([server.url]);
  }, 90_000);
});
