// The broker's web pages in a real browser (Debian's chromium through playwright-core), against
// the real broker with its private redis-server and SQLite registry and scripted graders on
// socket.io-client: sign in, upload, submit, the grading seen live, a reload and a lost
// connection resumed without a missed or repeated event, the leaderboard updating in a second
// page, the status page's figures, and untrusted names rendered as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { createEnv, until, cid } from '../e2e/harness.mjs';
import { launch, openPage, screenshot, shownSeqs, isConsecutive } from './browser.mjs';

// A long lease (graders pause mid-job here), short pings: a browser that lost its connection
// notices within about a second.
const ARGS = ['--lease', '60000', '--janitor', '200', '--retry-base', '100', '--retry-cap', '400',
    '--ping-interval', '500', '--ping-timeout', '500'];
const HOSTILE = '<img src=x onerror=alert(1)><b>Ada</b> & "Co"';

let env;
let browser;
let ada;
let bob;

before(async () => {
    env = await createEnv({
        brokerArgs: ARGS,
        seed: async (e) => {
            await e.createChallenge('demo', { title: 'Demo <Challenge>', pool: 'demo', primary: 'f1:desc', secondary: 'recall:desc', precision: 2 });
            await e.addRound('demo', 1);
            await e.createChallenge('idle', { title: 'Idle challenge', pool: 'idle-pool' });
            await e.addRound('idle', 1);
            ada = await e.addParticipant(HOSTILE);
            bob = await e.addParticipant('bob');
        },
    });
    browser = await launch();
});

after(async () => {
    if (browser) await browser.close();
    if (env) await env.cleanup();
});

async function signIn(page, who, challenge = 'demo') {
    await page.goto(`${env.url}/challenges/${challenge}/submit`);
    await page.getByLabel('API key').fill(who.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#account').waitFor({ state: 'visible' });
}

async function submitFile(page, name, text) {
    await page.getByLabel('Predictions file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
    await page.getByRole('button', { name: 'Submit' }).click();
}

async function liveId(page) {
    await page.locator('#live').waitFor({ state: 'visible' });
    const text = await page.locator('#live-id').textContent();
    return Number(text.replace('#', ''));
}

test('sign in, upload, submit, watch live through a reload and a lost connection; the leaderboard updates in another page', async () => {
    await env.explain(async () => {
        const plan = [
            { progress: 10, message: 'reading the file' },
            { info: 'rows: 1000' },
            { pause: 'mid' },
            { progress: 60, message: 'scored 600 of 1000' },
            { info: 'while the page was offline' },
            { pause: 'end' },
            { complete: 0.912345, secondary: 0.5 },
        ];
        const grader = await env.grader({ pools: ['demo'], capacity: 1, name: 'web-grader', plan });

        const viewer = await openPage(browser);
        await viewer.page.goto(`${env.url}/challenges/demo`);
        await viewer.page.locator('#connection', { hasText: 'Live' }).waitFor();
        assert.equal(await viewer.page.locator('h1').textContent(), 'Demo <Challenge>');
        assert.equal(await viewer.page.locator('#primary-head').textContent(), 'f1 (higher is better)');
        await viewer.page.locator('#board-empty').waitFor({ state: 'visible' });
        await viewer.page.evaluate(() => { window.notReloaded = true; });

        const me = await openPage(browser);
        const { page } = me;
        await signIn(page, ada);
        // The name is shown as the text it is, not as markup.
        assert.equal(await page.locator('#participant-name').textContent(), HOSTILE);
        assert.equal(await page.locator('#participant-name img, #participant-name b').count(), 0);

        const body = 'id,label\n' + Array.from({ length: 20000 }, (_, i) => `${i},${i % 2}`).join('\n');
        await submitFile(page, 'predictions.csv', body);
        await until(async () => (await page.locator('#upload-progress').evaluate((p) => p.value)) === 100, { what: 'the upload bar to reach 100' });
        assert.match(await page.locator('#upload-text').textContent(), /submission\(s\) left|Uploaded/);
        const id = await liveId(page);
        assert.ok(id > 0);

        await grader.waitJob(id);
        await page.locator('#live-events li', { hasText: 'rows: 1000' }).waitFor();
        assert.equal(await page.locator('#live-state').textContent(), 'Being graded');
        assert.equal(await page.locator('#live-progress').evaluate((p) => p.value), 10);
        await screenshot(page, 'submit-grading');

        // Reload in the middle of the grading: the view comes back whole, each event once.
        const before = await shownSeqs(page);
        assert.ok(isConsecutive(before), `events shown before the reload: ${before}`);
        await page.reload();
        await page.locator('#live-events li', { hasText: 'rows: 1000' }).waitFor();
        await until(async () => (await shownSeqs(page)).length === before.length, { what: 'the replayed events' });
        assert.deepEqual(await shownSeqs(page), before);
        assert.equal(Number((await page.locator('#live-id').textContent()).slice(1)), id);
        assert.equal(await page.locator('#live-progress').evaluate((p) => p.value), 10);

        // Lose the connection; the grader goes on meanwhile; back online, the page catches up.
        await me.context.setOffline(true);
        await page.locator('#connection', { hasText: /lost|Reconnecting/ }).waitFor();
        grader.resume(id, 'mid');
        await grader.waitReport(id, 'info', { timeout: 10000 });
        await until(() => grader.reports(id, 'info').length === 2, { what: 'the second info report' });
        await me.context.setOffline(false);
        await page.locator('#live-events li', { hasText: 'while the page was offline' }).waitFor({ timeout: 20000 });
        assert.equal(await page.locator('#live-progress').evaluate((p) => p.value), 60);
        const resumed = await shownSeqs(page);
        assert.ok(isConsecutive(resumed), `events after reconnecting: ${resumed}`);

        grader.resume(id, 'end');
        await page.locator('#live-state', { hasText: 'Complete' }).waitFor();
        assert.equal(await page.locator('#live-result').textContent(), 'Score: f1 0.91 · recall 0.50');
        assert.equal(await page.locator('#cancel-button').isHidden(), true);
        const final = await shownSeqs(page);
        assert.ok(isConsecutive(final), `events at the end: ${final}`);
        assert.equal(await page.locator('#live-events li[data-type="COMPLETE"]').count(), 1);

        // The own submissions list has it, with its score.
        const row = page.locator(`#mine-rows tr[data-submission="${id}"]`);
        await row.locator('td', { hasText: '0.91' }).waitFor();
        assert.equal(await row.getAttribute('data-state'), 'COMPLETE');
        await screenshot(page, 'submit-complete');

        // The other page saw the leaderboard change without reloading.
        const board = viewer.page.locator('#board-rows tr');
        await board.first().waitFor();
        assert.equal(await board.count(), 1);
        const cells = await board.first().locator('td').allTextContents();
        assert.equal(cells[0], '1');
        assert.equal(cells[1], HOSTILE);
        assert.equal(cells[2], '0.91');
        assert.equal(cells[3], '0.50');
        assert.equal(await viewer.page.locator('#board-rows img, #board-rows b').count(), 0);
        assert.equal(await viewer.page.evaluate(() => window.notReloaded), true);
        await screenshot(viewer.page, 'challenge-leaderboard');

        // The API key never appeared in a URL the pages requested.
        for (const u of [...me.urls, ...viewer.urls]) assert.ok(!u.includes(ada.apiKey), `API key in ${u}`);
        // The pages upgraded to WebSocket: the CSP's connect-src 'self' lets them.
        assert.ok(me.urls.some((u) => u.startsWith('ws://') && u.includes('transport=websocket')), 'a WebSocket was opened');
        const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('crowdai.session.demo')).token);
        assert.ok(!env.broker.stderr().includes(ada.apiKey), 'the API key is not in the broker log');
        assert.ok(!env.broker.stderr().includes(token), 'the session token is not in the broker log');
        assert.equal(await page.evaluate((k) => Object.values(sessionStorage).some((v) => v.includes(k)), ada.apiKey), false,
            'the API key is not kept in the tab');
        assert.deepEqual(me.problems, []);
        assert.deepEqual(viewer.problems, []);
        await me.context.close();
        await viewer.context.close();
        grader.close();
    });
});

test('no grader online: the page says so with the queue position; cancel ends it', async () => {
    await env.explain(async () => {
        const { page, context, problems } = await openPage(browser);
        await signIn(page, bob, 'idle');
        await submitFile(page, 'p.csv', 'id,label\n1,0\n');
        await liveId(page);
        await page.locator('#live-waiting').waitFor({ state: 'visible' });
        assert.match(await page.locator('#live-position').textContent(), /Next in line|ahead of yours/);
        assert.equal(await page.locator('#live-state').textContent(), 'Queued');
        await screenshot(page, 'submit-waiting');
        await page.getByRole('button', { name: 'Cancel this submission' }).click();
        await page.locator('#live-state', { hasText: 'Cancelled' }).waitFor();
        assert.equal(await page.locator('#live-waiting').isHidden(), true);
        assert.deepEqual(problems, []);
        await context.close();
    });
});

test('a session that is not valid any more signs out with a message; a wrong key is refused', async () => {
    await env.explain(async () => {
        const { page, context, problems } = await openPage(browser);
        await page.goto(`${env.url}/challenges/demo/submit`);
        await page.getByLabel('API key').fill('not-a-key');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#signin-error', { hasText: 'not valid' }).waitFor();
        assert.equal(await page.locator('#account').isHidden(), true);
        // A forged session in storage: the broker refuses it and the page asks to sign in.
        await page.evaluate(() => sessionStorage.setItem('crowdai.session.demo',
            JSON.stringify({ token: 'v2.forged', expires_at: new Date(Date.now() + 3600e3).toISOString(), participant: { id: 1, name: 'x' } })));
        await page.reload();
        await page.locator('#signin-error', { hasText: /session|token/i }).waitFor();
        assert.equal(await page.locator('#signin').isVisible(), true);
        assert.deepEqual(problems, []);
        await context.close();
    });
});

test('status page: per pool graders and capacity, queued and oldest age, finished per minute', async () => {
    await env.explain(async () => {
        const grader = await env.grader({ pools: ['demo'], capacity: 3, name: 'status-grader', plan: [{ complete: 0.5 }] });
        const p = await env.participant(bob, 'demo');
        const ack = await p.submitOk({ client_submission_id: cid('web'), data: { n: 1 } });
        await grader.waitReport(ack.submission_id, 'complete');
        const q = await env.participant(bob, 'idle');
        await q.submitOk({ client_submission_id: cid('web'), data: { n: 2 } });

        const { page, context, problems } = await openPage(browser);
        await page.goto(`${env.url}/status`);
        const demo = page.locator('section[data-pool="demo"]');
        const idle = page.locator('section[data-pool="idle-pool"]');
        await demo.waitFor();
        const fig = (pool, name) => pool.locator(`[data-figure="${name}"]`).textContent();
        await until(async () => (await fig(demo, 'graders_online')) === '1', { what: 'one grader online in pool demo' });
        assert.equal(await fig(demo, 'capacity'), '3');
        await until(async () => Number(await fig(demo, 'finished_last_hour')) >= 2, { what: 'finished jobs in pool demo', timeout: 15000 });
        assert.ok((await demo.locator('svg.chart rect.bar').count()) >= 1, 'a bar in the chart');
        assert.equal(await fig(idle, 'graders_online'), '0');
        assert.match(await idle.textContent(), /No grader online/);
        await until(async () => Number(await fig(idle, 'queued')) === 1, { what: 'one queued job in idle-pool' });
        assert.match(await fig(idle, 'oldest_queued'), /^\d+ s$/);
        assert.match(await idle.textContent(), /Grades idle/);
        // Public figures only: no participant's name on the page.
        assert.ok(!(await page.content()).includes('bob'));
        await screenshot(page, 'status');
        assert.deepEqual(problems, []);
        await context.close();
    });
});

test('index page lists the challenges; pages work on a phone-sized screen', async () => {
    await env.explain(async () => {
        const { page, context, problems } = await openPage(browser, { viewport: { width: 390, height: 844 } });
        await page.goto(`${env.url}/`);
        await page.getByRole('link', { name: 'Demo <Challenge>' }).waitFor();
        assert.equal(await page.getByRole('link', { name: 'Idle challenge' }).count(), 1);
        for (const path of ['/', '/challenges/demo', '/challenges/demo/submit', '/status']) {
            await page.goto(`${env.url}${path}`);
            await page.locator('#connection', { hasText: 'Live' }).waitFor();
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px on a phone`);
            // Every form control has a label.
            const unlabelled = await page.$$eval('input', (inputs) => inputs.filter((i) => i.labels.length === 0).map((i) => i.id));
            assert.deepEqual(unlabelled, [], `${path}: inputs without a label`);
            await screenshot(page, `phone${path.replace(/\//g, '-').replace(/-$/, '') || '-index'}`);
        }
        assert.deepEqual(problems, []);
        await context.close();
    });
});

test('keyboard only: the API key field is reached with Tab, Enter signs in, Sign out works from the keyboard; focus is visible', async () => {
    await env.explain(async () => {
        const { page, context, problems } = await openPage(browser);
        await page.goto(`${env.url}/challenges/demo/submit`);
        await page.locator('#connection', { hasText: 'Live' }).waitFor();
        const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
        let presses = 0;
        while ((await focused()) !== 'api-key' && presses < 10) {
            await page.keyboard.press('Tab');
            presses++;
        }
        assert.equal(await focused(), 'api-key', 'the API key field is reachable with Tab');
        const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
        assert.notEqual(outline, 'none', 'the focused field shows it');
        await page.keyboard.type(bob.apiKey);
        await page.keyboard.press('Enter');
        await page.locator('#account').waitFor({ state: 'visible' });
        assert.equal(await page.locator('#participant-name').textContent(), 'bob');
        presses = 0;
        while ((await focused()) !== 'signout-button' && presses < 20) {
            await page.keyboard.press('Tab');
            presses++;
        }
        assert.equal(await focused(), 'signout-button', 'Sign out is reachable with Tab');
        await page.keyboard.press('Enter');
        await page.locator('#signin').waitFor({ state: 'visible' });
        assert.equal(await page.evaluate(() => sessionStorage.getItem('crowdai.session.demo')), null);
        assert.deepEqual(problems, []);
        await context.close();
    });
});
