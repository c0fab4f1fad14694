// Real-browser check of the service's documentation pages, in headless system chromium:
//   - Swagger UI at ${BASE_URL}/docs/: the operations render, "Authorize" offers the bearer
//     scheme, "Try it out" → "Execute" on GET /health shows a live 200 with `healthy`, and
//     with an access token entered through "Authorize", "Execute" on GET /auth/sessions sends
//     it and shows a live 200 listing the session as `current`;
//   - ReDoc at ${BASE_URL}/redoc: the API title renders.
// Every page must stay on the server (no request to another host), log no console error and
// have no failed request. Screenshots go to ${SCREENSHOT_DIR:-target/browser}.
//
// Environment: BASE_URL (required, e.g. http://127.0.0.1:8080), SCREENSHOT_DIR,
// CHROMIUM_PATH (default /usr/bin/chromium), API_TITLE (default "Auth Service", as the server),
// STEP_TIMEOUT_MS (default 30000), DOCS_HOST_ALIAS (see below). Exit status: 0 when every
// check passed, 1 otherwise.
// `bash tests/browser/run.sh` builds and starts the server, then runs this.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const SERVER_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(SERVER_URL)) {
  console.error('error: BASE_URL must be set to the server, e.g. BASE_URL=http://127.0.0.1:8080');
  process.exit(2);
}
// Swagger UI skips some third-party calls (its online validator badge) when the page's host is
// "localhost" or "127.0.0.1", which would hide them here and not in production. So a loopback
// server is opened under an alias host that chromium resolves to the same address
// (DOCS_HOST_ALIAS, default auth-service.test; set it empty to open BASE_URL as it is).
const HOST_ALIAS = process.env.DOCS_HOST_ALIAS ?? 'auth-service.test';
const server = new URL(SERVER_URL);
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const aliased = HOST_ALIAS !== '' && LOOPBACK.includes(server.hostname);
const BASE_URL = aliased
  ? `${server.protocol}//${HOST_ALIAS}${server.port ? `:${server.port}` : ''}${server.pathname.replace(/\/+$/, '')}`
  : SERVER_URL;
const ORIGIN = new URL(BASE_URL).origin;
const RESOLVER_RULE = aliased
  ? `MAP ${HOST_ALIAS} ${server.hostname === 'localhost' ? '127.0.0.1' : server.hostname}`
  : null;
const SCREENSHOT_DIR = resolve(process.env.SCREENSHOT_DIR || 'target/browser');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const API_TITLE = process.env.API_TITLE || 'Auth Service';
const TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 30000);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  ...(RESOLVER_RULE ? [`--host-resolver-rules=${RESOLVER_RULE}`] : []),
];

const results = [];

function report(ok, name, detail) {
  results.push({ ok, name, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

/** Runs one check; a thrown error fails it with the error's first line. */
async function check(name, fn) {
  try {
    report(true, name, await fn());
    return true;
  } catch (err) {
    report(false, name, String(err?.message ?? err).split('\n')[0]);
    return false;
  }
}

/**
 * Watches a page for requests to another origin, console errors, uncaught exceptions,
 * failed requests and HTTP error statuses.
 */
function watch(page) {
  const problems = [];
  page.on('request', (req) => {
    const url = req.url();
    if (/^(data|blob|about):/.test(url)) return;
    let origin;
    try {
      origin = new URL(url).origin;
    } catch {
      origin = url;
    }
    if (origin !== ORIGIN) problems.push(`request to another host: ${req.method()} ${url}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const at = msg.location()?.url;
    problems.push(`console error: ${msg.text()}${at ? ` (at ${at})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`failed request: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) {
      problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    }
  });
  return problems;
}

function assertClean(problems) {
  if (problems.length > 0) {
    throw new Error(`${problems.length} problem(s): ${problems.join(' | ')}`);
  }
  return 'no request to another host, no console error, no failed request';
}

async function screenshot(page, file, { fullPage }) {
  const path = join(SCREENSHOT_DIR, file);
  try {
    await page.screenshot({ path, fullPage, timeout: TIMEOUT });
    console.log(`     screenshot: ${path}`);
  } catch (err) {
    console.error(`     (could not save screenshot ${path}: ${err.message.split('\n')[0]})`);
  }
}

/** The Swagger UI operation block for METHOD PATH (exact path). */
function opblock(page, method, path) {
  return page
    .locator(`.opblock.opblock-${method.toLowerCase()}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
}

async function swagger(context) {
  const page = await context.newPage();
  const problems = watch(page);
  const url = `${BASE_URL}/docs/`;

  const loaded = await check('swagger: page loads', async () => {
    const res = await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT });
    if (!res || !res.ok()) throw new Error(`GET ${url} answered ${res?.status() ?? 'nothing'}`);
    return `GET /docs/ → ${res.status()}`;
  });

  const rendered =
    loaded &&
    (await check('swagger: operations and title render', async () => {
      const title = page.locator('.information-container .info .title');
      await title.waitFor({ state: 'visible', timeout: TIMEOUT });
      const text = (await title.innerText()).trim();
      if (!text.includes(API_TITLE)) throw new Error(`title is "${text}", expected "${API_TITLE}"`);
      await opblock(page, 'GET', '/health').waitFor({ state: 'visible', timeout: TIMEOUT });
      await opblock(page, 'POST', '/auth/login').waitFor({ state: 'visible', timeout: TIMEOUT });
      const count = await page.locator('.opblock').count();
      return `title "${text.replace(/\s+/g, ' ')}", ${count} operations incl. GET /health, POST /auth/login`;
    }));

  if (rendered) {
    await check('swagger: Authorize offers the bearer scheme', async () => {
      const authorize = page.locator('.auth-wrapper button.authorize');
      await authorize.waitFor({ state: 'visible', timeout: TIMEOUT });
      await authorize.click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
      const text = (await dialog.innerText()).replace(/\s+/g, ' ');
      await dialog.locator('button.close-modal').click();
      await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT });
      if (!/bearer_auth/.test(text) || !/\(http, Bearer\)/i.test(text)) {
        throw new Error(`the Authorize dialog does not offer bearer_auth (http, Bearer): "${text.slice(0, 200)}"`);
      }
      return 'dialog lists bearer_auth (http, Bearer)';
    });

    await check('swagger: Try it out → Execute GET /health shows 200 healthy', async () => {
      const block = opblock(page, 'GET', '/health');
      await block.locator('.opblock-summary-control').click();
      const tryOut = block.locator('button.try-out__btn');
      await tryOut.waitFor({ state: 'visible', timeout: TIMEOUT });
      await tryOut.click();
      const execute = block.locator('button.execute');
      await execute.waitFor({ state: 'visible', timeout: TIMEOUT });
      const response = page.waitForResponse(
        (res) => new URL(res.url()).pathname === '/health' && res.request().method() === 'GET',
        { timeout: TIMEOUT },
      );
      await execute.click();
      const res = await response;
      const live = block.locator('.live-responses-table .response');
      await live.first().waitFor({ state: 'visible', timeout: TIMEOUT });
      const status = block.locator('.live-responses-table .response .response-col_status');
      await status.filter({ hasText: /\S/ }).first().waitFor({ timeout: TIMEOUT });
      const shown = (await status.first().innerText()).trim();
      if (!shown.startsWith('200')) throw new Error(`live response status is "${shown}", expected 200`);
      const body = block.locator('.live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre');
      await body.filter({ hasText: 'healthy' }).first().waitFor({ timeout: TIMEOUT });
      const bodyText = (await body.first().innerText()).replace(/\s+/g, ' ').trim();
      return `request ${res.status()}, shown ${shown}, body ${bodyText.slice(0, 80)}`;
    });
  }

  if (rendered) {
    await check('swagger: Authorize with a token → Execute GET /auth/sessions shows 200', async () => {
      const token = await signUp();
      const authorize = page.locator('.auth-wrapper button.authorize');
      await authorize.click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      await dialog.waitFor({ state: 'visible', timeout: TIMEOUT });
      await dialog.locator('input').first().fill(token);
      await dialog.locator('.auth-btn-wrapper button.authorize').click();
      await dialog.locator('.auth-btn-wrapper button.btn-done, button.close-modal').first().click();
      await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT });
      const block = opblock(page, 'GET', '/auth/sessions');
      await block.waitFor({ state: 'visible', timeout: TIMEOUT });
      await block.locator('.opblock-summary-control').click();
      const tryOut = block.locator('button.try-out__btn');
      await tryOut.waitFor({ state: 'visible', timeout: TIMEOUT });
      await tryOut.click();
      const execute = block.locator('button.execute');
      await execute.waitFor({ state: 'visible', timeout: TIMEOUT });
      const response = page.waitForResponse(
        (res) => new URL(res.url()).pathname === '/auth/sessions' && res.request().method() === 'GET',
        { timeout: TIMEOUT },
      );
      await execute.click();
      const res = await response;
      const sent = (await res.request().allHeaders()).authorization ?? '';
      if (sent !== `Bearer ${token}`) throw new Error(`the request carried Authorization "${sent.slice(0, 20)}…"`);
      const status = block.locator('.live-responses-table .response .response-col_status');
      await status.filter({ hasText: /\S/ }).first().waitFor({ timeout: TIMEOUT });
      const shown = (await status.first().innerText()).trim();
      if (!shown.startsWith('200')) throw new Error(`live response status is "${shown}", expected 200`);
      const body = block.locator('.live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre');
      await body.filter({ hasText: '"current": true' }).first().waitFor({ timeout: TIMEOUT });
      return `request ${res.status()} with the bearer token, shown ${shown}, the session listed as current`;
    });
  }

  await screenshot(page, 'swagger.png', { fullPage: true });
  await check('swagger: stays on the server, no errors', async () => assertClean(problems));
  await page.close();
}

/** Registers a fresh user straight with the server (not through a page); returns its access token. */
async function signUp() {
  const name = `browser_${Date.now().toString(36)}`;
  const res = await fetch(`${SERVER_URL}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${name}@example.com`, username: name, password: 'correct horse battery staple' }),
  });
  if (res.status !== 201) throw new Error(`registering a user answered ${res.status}`);
  return (await res.json()).access_token;
}

async function redoc(context) {
  const page = await context.newPage();
  const problems = watch(page);
  const url = `${BASE_URL}/redoc`;

  const loaded = await check('redoc: page loads', async () => {
    const res = await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT });
    if (!res || !res.ok()) throw new Error(`GET ${url} answered ${res?.status() ?? 'nothing'}`);
    return `GET /redoc → ${res.status()}`;
  });

  if (loaded) {
    await check('redoc: API title renders', async () => {
      const heading = page.locator('.api-info h1, h1').filter({ hasText: API_TITLE }).first();
      try {
        await heading.waitFor({ state: 'visible', timeout: TIMEOUT });
      } catch {
        const shown = (await page.locator('body').innerText()).replace(/\s+/g, ' ').slice(0, 200);
        throw new Error(`no heading with "${API_TITLE}" after ${TIMEOUT} ms; page shows: "${shown}"`);
      }
      const text = (await heading.innerText()).replace(/\s+/g, ' ').trim();
      const ops = await page.locator('[data-section-id^="operation/"], [data-section-id^="tag/"]').count();
      return `heading "${text}", ${ops} tag/operation sections`;
    });
  }

  // ReDoc's full page is several screens tall; the first one shows the title and the menu.
  await screenshot(page, 'redoc.png', { fullPage: false });
  await check('redoc: stays on the server, no errors', async () => assertClean(problems));
  await page.close();
}

async function main() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  console.log(`     pages opened at ${BASE_URL}${aliased ? ` (alias of ${SERVER_URL})` : ''}`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'browser-check-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: TIMEOUT,
    });
  } catch (err) {
    report(false, 'browser: chromium starts', `${CHROMIUM_PATH}: ${err.message.split('\n')[0]}`);
    rmSync(userDataDir, { recursive: true, force: true });
    return;
  }
  context.setDefaultTimeout(TIMEOUT);
  try {
    // The profile starts with a blank page; close it so nothing but our pages runs.
    for (const p of context.pages()) await p.close();
    await swagger(context);
    await redoc(context);
  } finally {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

await main().catch((err) => report(false, 'browser: unexpected error', err?.stack ?? String(err)));
const failures = results.filter((r) => !r.ok);
for (const f of failures) console.error(`error: browser check failed: ${f.name}: ${f.detail}`);
const failed = failures.length;
console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
