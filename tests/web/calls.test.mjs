// The web pages' HTTP routes and Socket.IO calls without a browser: what each route serves and
// with which headers, the embedded socket.io-client bundle being npm's own file, and the calls
// challenges, challenge, my_submissions, queue_status and leaderboard_follow, against the real
// broker with its private redis-server and SQLite registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';

import { createEnv, until, cid, STEADY_TIMINGS } from '../e2e/harness.mjs';

let env;
let ann;
let ben;

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            await e.createChallenge('alpha', { title: 'Alpha', pool: 'shared', primary: 'rmse:asc', secondary: 'mae:asc' });
            await e.addRound('alpha', 1);
            await e.createChallenge('beta', { title: 'Beta', pool: 'shared' });
            await e.addRound('beta', 1);
            ann = await e.addParticipant('ann');
            ben = await e.addParticipant('ben');
        },
    });
});

after(async () => {
    if (env) await env.cleanup();
});

function socket() {
    const s = io(env.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    env.clients.add({ close: async () => s.close() });
    return s;
}

async function emit(s, event, args) {
    return s.timeout(10000).emitWithAck(event, args);
}

test('pages are served at their routes with a Content-Security-Policy; files under /static/', async () => {
    for (const p of ['/', '/status', '/challenges/alpha', '/challenges/alpha/submit', '/challenges/alpha/']) {
        const res = await fetch(`${env.url}${p}`);
        assert.equal(res.status, 200, p);
        assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8', p);
        const csp = res.headers.get('content-security-policy');
        assert.match(csp, /default-src 'none'/, p);
        assert.match(csp, /script-src 'self'/, p);
        assert.match(csp, /connect-src 'self'/, p);
        assert.match(csp, /frame-ancestors 'none'/, p);
        assert.match(await res.text(), /<!doctype html>/i, p);
    }
    const page = await (await fetch(`${env.url}/challenges/alpha/submit`)).text();
    assert.match(page, /src="\/static\/submit\.js"/);
    assert.doesNotMatch(page, /https?:\/\//, 'a page loads nothing from elsewhere');

    const bundle = await fetch(`${env.url}/static/socket.io.min.js`);
    assert.equal(bundle.status, 200);
    assert.equal(bundle.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const npmFile = fs.readFileSync(path.resolve('node_modules/socket.io-client/dist/socket.io.min.js'));
    assert.ok(Buffer.from(await bundle.arrayBuffer()).equals(npmFile), 'the bundle is npm\'s socket.io-client file');

    for (const p of ['/static/index.html', '/static/nothing.js', '/static/', '/challenges/Alpha!', '/challenges/alpha/other',
        '/challenges/alpha/submit/more', `/challenges/${'x'.repeat(64)}`, '/static/../CMakeLists.txt']) {
        const res = await fetch(`${env.url}${p}`);
        assert.equal(res.status, 404, p);
        await res.arrayBuffer();
    }
    const post = await fetch(`${env.url}/`, { method: 'POST', body: 'api_key=secret' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
});

test('challenges and challenge give the public settings; an unknown one is refused', async () => {
    const s = socket();
    const list = await emit(s, 'challenges', {});
    assert.equal(list.ok, true);
    assert.deepEqual(list.challenges.map((c) => c.id), ['alpha', 'beta']);
    const alpha = list.challenges[0];
    assert.equal(alpha.title, 'Alpha');
    assert.equal(alpha.primary_name, 'rmse');
    assert.equal(alpha.primary_sort, 'asc');
    assert.equal(alpha.secondary_name, 'mae');
    assert.equal(alpha.secondary_sort, 'asc');
    assert.equal(alpha.precision, 3);
    assert.equal(list.challenges[1].secondary_name, null);
    const one = await emit(s, 'challenge', { challenge_id: 'beta' });
    assert.deepEqual(one.challenge, list.challenges[1]);
    const none = await emit(s, 'challenge', { challenge_id: 'nope' });
    assert.equal(none.ok, false);
    assert.equal(none.code, 'UNKNOWN_CHALLENGE');
    const bad = await emit(s, 'challenge', {});
    assert.equal(bad.code, 'BAD_REQUEST');
});

test('my_submissions lists only the caller\'s own, of the session\'s challenge, newest first', async () => {
    const a = await env.participant(ann, 'alpha');
    const b = await env.participant(ben, 'alpha');
    const a1 = await a.submitOk({ client_submission_id: cid('web'), data: { n: 1 } });
    const a2 = await a.submitOk({ client_submission_id: cid('web'), data: { n: 2 } });
    const b1 = await b.submitOk({ client_submission_id: cid('web'), data: { n: 3 } });
    const mine = await a.call('my_submissions', { session_token: a.token });
    assert.equal(mine.ok, true, JSON.stringify(mine));
    assert.equal(mine.challenge_id, 'alpha');
    assert.deepEqual(mine.submissions.map((x) => x.submission_id), [a2.submission_id, a1.submission_id]);
    assert.equal(mine.submissions[0].state, 'QUEUED');
    assert.equal(mine.submissions[0].score, null);
    const theirs = await b.call('my_submissions', { session_token: b.token });
    assert.deepEqual(theirs.submissions.map((x) => x.submission_id), [b1.submission_id]);
    const s = socket();
    assert.equal((await emit(s, 'my_submissions', {})).code, 'NO_SESSION');
    assert.equal((await emit(s, 'my_submissions', { session_token: 'v2.1.alpha.1.2.3.bad' })).code, 'BAD_SESSION');
});

test('queue_status: every pool of a challenge, with public figures only', async () => {
    const s = socket();
    const st = await until(async () => {
        const r = await emit(s, 'queue_status', {});
        const shared = r.ok ? r.pools.find((p) => p.pool === 'shared') : undefined;
        return shared && shared.queued >= 3 ? r : undefined;
    }, { what: 'three queued jobs in pool shared', timeout: 10000 });
    const shared = st.pools.find((p) => p.pool === 'shared');
    assert.deepEqual(shared.challenges, ['alpha', 'beta']);
    assert.equal(shared.graders_online, 0);
    assert.equal(shared.capacity, 0);
    assert.equal(shared.running, 0);
    assert.equal(shared.gen2_bridge, false);
    assert.equal(typeof shared.oldest_queued_seconds, 'number');
    assert.equal(shared.finished_per_minute.length, 60);
    assert.ok(!JSON.stringify(st).includes('ann') && !JSON.stringify(st).includes('ben'), 'no participant in the figures');
});

test('leaderboard_follow: followers of the challenge hear of a new score, others do not', async () => {
    // Followers first: the queued submissions of the earlier tests are graded once the grader comes.
    const alphaFan = socket();
    const betaFan = socket();
    const heard = { alpha: [], beta: [] };
    alphaFan.on('leaderboard_changed', (m) => heard.alpha.push(m));
    betaFan.on('leaderboard_changed', (m) => heard.beta.push(m));
    assert.equal((await emit(alphaFan, 'leaderboard_follow', { challenge_id: 'alpha' })).ok, true);
    assert.equal((await emit(betaFan, 'leaderboard_follow', { challenge_id: 'beta' })).ok, true);
    assert.equal((await emit(betaFan, 'leaderboard_follow', { challenge_id: 'no such!' })).code, 'BAD_REQUEST');
    const grader = await env.grader({ pools: ['shared'], capacity: 4, name: 'board-grader', plan: [{ complete: 0.25, secondary: 0.1 }] });
    // The queued submissions of the earlier tests (all alpha) and one to beta are graded now.
    const c = await env.participant(ben, 'beta');
    await c.submitOk({ client_submission_id: cid('web'), data: { n: 4 } });
    await until(() => heard.alpha.length > 0, { what: 'leaderboard_changed for alpha', timeout: 15000 });
    assert.deepEqual(heard.alpha[0], { challenge_id: 'alpha' });
    // When it is told, the registry already has the score.
    const board = await emit(alphaFan, 'leaderboard', { challenge_id: 'alpha' });
    assert.ok(board.rows.length >= 1, JSON.stringify(board));
    await until(() => heard.beta.length > 0, { what: 'leaderboard_changed for beta', timeout: 15000 });
    assert.ok(heard.beta.every((m) => m.challenge_id === 'beta'));
    assert.ok(heard.alpha.every((m) => m.challenge_id === 'alpha'));
    assert.ok(grader.jobs().length >= 3);
});
