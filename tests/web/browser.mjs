// Headless Debian Chromium driven by playwright-core for the web page tests: one browser per
// test file, pages that fail the test on any page error, console error or dialog (an escaped
// name must never run as script), every request URL recorded (the API key must never be in
// one), and screenshots saved as artifacts under WEB_ARTIFACTS.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const ARTIFACTS = process.env.WEB_ARTIFACTS || path.resolve('build/web-artifacts');

export async function launch() {
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // The CI machine runs as root in a container: Chromium's sandbox needs user namespaces.
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
        timeout: 60000,
    });
}

/** A page in its own context (own sessionStorage) with what went wrong in it recorded. */
export async function openPage(browser, { viewport = { width: 1100, height: 900 } } = {}) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const problems = [];
    const urls = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('dialog', async (dialog) => {
        problems.push(`dialog: ${dialog.message()}`);
        await dialog.dismiss();
    });
    page.on('request', (req) => urls.push(req.url()));
    page.on('response', (res) => {
        if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    page.on('websocket', (ws) => urls.push(ws.url()));
    page.setDefaultTimeout(15000);
    return { context, page, problems, urls };
}

export async function screenshot(page, name) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

/** The seq numbers of the events the submission page shows, in order. */
export async function shownSeqs(page) {
    return page.$$eval('#live-events li', (items) => items.map((li) => Number(li.dataset.seq)));
}

/** Asserts a list is 1, 2, ..., n (each event once, none missing, in order). */
export function isConsecutive(seqs) {
    return seqs.length > 0 && seqs.every((s, i) => s === i + 1);
}
