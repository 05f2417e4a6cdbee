// Every refusal of the participant protocol with its code and message, and that a refusal
// concerns that client alone. Session tokens last 3 s here so that expiry can be tested.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { io } from 'socket.io-client';
import { DAY, HOUR, STEADY_TIMINGS, WAIT_MS, cid, createEnv, sleep, until } from './harness.mjs';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        brokerArgs: [...STEADY_TIMINGS, '--token-ttl', '3000'],
        seed: async (e) => {
            for (const name of ['alice', 'bob', 'carol']) who[name] = await e.addParticipant(name);
            await e.createChallenge('open', { pool: 'open-pool' });
            await e.addRound('open', 1);
            await e.createChallenge('closed', { pool: 'closed-pool' });
            await e.addRound('closed', 1, { start: -2 * DAY, end: -DAY });
            await e.createChallenge('future', { pool: 'future-pool' });
            await e.addRound('future', 1, { start: DAY, end: 2 * DAY });
            await e.createChallenge('limited', { pool: 'limited-pool' });
            await e.addRound('limited', 1, { limit: 2, period: 'day' });
            await e.createChallenge('parallel', { pool: 'parallel-pool' });
            await e.addRound('parallel', 1, { parallel: 1 });
            await e.createChallenge('qual', { pool: 'qual-pool', primary: 'accuracy:desc' });
            await e.addRound('qual', 1, { minScore: 0.5 });
            await e.addRound('qual', 2, { start: -HOUR / 2 });
            await e.createChallenge('rounds', { pool: 'rounds-pool' });
            await e.addRound('rounds', 1, { start: -2 * DAY, end: -DAY, late: false });
            await e.addRound('rounds', 2);
            await e.createChallenge('latecomers', { pool: 'rounds-pool' });
            await e.addRound('latecomers', 1, { start: -2 * DAY, end: -DAY, late: true });
            await e.addRound('latecomers', 2);
        },
    });
});

afterEach(() => env.closeClients());
after(() => env && env.cleanup());

/** Asserts a refusal: ok false, the code, a message in words. */
function refused(ack, code, what) {
    assert.equal(ack.ok, false, `${what}: expected ${code}, got ${JSON.stringify(ack)}`);
    assert.equal(ack.code, code, `${what}: ${JSON.stringify(ack)}`);
    assert.ok(typeof ack.message === 'string' && ack.message.length >= 10, `${what}: a message in words: ${JSON.stringify(ack)}`);
    return ack;
}

/** A refused submit also says how many submissions are left and when the quota resets. */
function submitRefused(ack, code, what) {
    refused(ack, code, what);
    assert.ok('submissions_remaining' in ack, `${what}: submissions_remaining in ${JSON.stringify(ack)}`);
    assert.ok('reset_at' in ack, `${what}: reset_at in ${JSON.stringify(ack)}`);
    assert.ok(ack.reset_at === null || !Number.isNaN(Date.parse(ack.reset_at)), `${what}: reset_at ${ack.reset_at}`);
    return ack;
}

const data = (tag) => ({ plan: [{ complete: 0.5 }], tag });

test('authenticate: bad API key, unknown challenge, closed challenge, malformed', async () => {
    const p = await env.participant(who.alice, 'open', { authenticate: false });
    const bad = refused(await p.authenticate({ api_key: `${who.alice.apiKey}x` }), 'BAD_API_KEY', 'wrong key');
    const unknown = refused(await p.authenticate({ challenge_id: 'no-such-challenge' }), 'UNKNOWN_CHALLENGE', 'unknown challenge');
    const closed = refused(await p.authenticate({ challenge_id: 'closed' }), 'CHALLENGE_CLOSED', 'closed challenge');
    assert.equal(new Set([bad.message, unknown.message, closed.message]).size, 3, 'each has its own message');
    for (const a of [bad, unknown, closed]) assert.ok(!a.message.includes(who.alice.apiKey), 'no key in a message');
    refused(await p.call('authenticate', { api_key: 42, challenge_id: 'open' }), 'BAD_REQUEST', 'api_key not a string');
    refused(await p.call('authenticate', { api_key: who.alice.apiKey }), 'BAD_REQUEST', 'no challenge_id');
    // A round that has not opened yet does not close the challenge.
    const future = await p.authenticate({ challenge_id: 'future' });
    assert.equal(future.ok, true, JSON.stringify(future));
    // The same socket authenticates fine afterwards.
    const ok = await p.authenticate();
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual(ok.participant, { id: who.alice.id, name: 'alice' });
    assert.deepEqual(ok.challenge, { id: 'open', title: 'Challenge open' });
    assert.ok(typeof ok.session_token === 'string' && ok.session_token.length > 0);
    assert.ok(!Number.isNaN(Date.parse(ok.expires_at)));
});

test('session token: missing, garbled, tampered, for another challenge, expired', async () => {
    const p = await env.participant(who.alice, 'open');
    const good = p.token;
    const base = { challenge_id: 'open', client_submission_id: cid('tok'), data: data('tok') };
    refused(await p.call('submit', base), 'NO_SESSION', 'no token');
    refused(await p.call('submit', { ...base, session_token: 'not-a-token' }), 'BAD_SESSION', 'garbled token');
    const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
    refused(await p.call('submit', { ...base, session_token: flipped }), 'BAD_SESSION', 'tampered token');
    refused(await p.call('status', { session_token: 'x.y.z', submission_id: 1 }), 'BAD_SESSION', 'garbled token on status');
    // A token for one challenge does not submit to another.
    refused(await p.call('submit', { ...base, session_token: good, challenge_id: 'limited' }), 'BAD_REQUEST', 'other challenge');

    const auth = await p.authenticate();
    const expires = Date.parse(auth.expires_at);
    assert.ok(expires - Date.now() < WAIT_MS, `--token-ttl 3000 gives a token that expires soon: ${auth.expires_at}`);
    const ok = await p.submit({ client_submission_id: cid('tok'), data: data('fresh') });
    assert.equal(ok.ok, true, `a fresh token works: ${JSON.stringify(ok)}`);
    await sleep(Math.max(0, expires - Date.now()) + 300);
    refused(await p.submit({ client_submission_id: cid('tok'), data: data('expired') }), 'SESSION_EXPIRED', 'expired token');
    refused(await p.status(ok.submission_id), 'SESSION_EXPIRED', 'expired token on status');
    // Authenticating again gives a working token.
    await p.authenticate();
    const st = await p.status(ok.submission_id);
    assert.equal(st.ok, true, JSON.stringify(st));
});

test('submission limit: LIMIT_REACHED with reset_at; a retry of an accepted one still answers', async () => {
    const p = await env.participant(who.alice, 'limited');
    const before = Date.now();
    const a1 = await p.submitOk({ client_submission_id: 'lim-1', data: data(1) });
    const a2 = await p.submitOk({ client_submission_id: 'lim-2', data: data(2) });
    const afterSubmits = Date.now();
    assert.equal(a1.submissions_remaining, 1);
    assert.equal(a2.submissions_remaining, 0);
    const third = submitRefused(await p.submit({ client_submission_id: 'lim-3', data: data(3) }), 'LIMIT_REACHED', 'third of 2');
    assert.equal(third.submissions_remaining, 0);
    // The first slot frees up 24 h after the first submission.
    const reset = Date.parse(third.reset_at);
    assert.ok(reset >= before + DAY - 1000 && reset <= afterSubmits + DAY + 1000, `reset_at ${third.reset_at}`);
    const retry = await p.submitOk({ client_submission_id: 'lim-1', data: data(1) });
    assert.equal(retry.submission_id, a1.submission_id);
    assert.equal(retry.existing, true);
    // Another participant has a quota of their own.
    const bob = await env.participant(who.bob, 'limited');
    const b1 = await bob.submitOk({ client_submission_id: 'lim-1', data: data(1) });
    assert.notEqual(b1.submission_id, a1.submission_id);
    assert.equal(b1.submissions_remaining, 1);
});

test('parallel limit: TOO_MANY_IN_FLIGHT until one finishes', async () => {
    const p = await env.participant(who.alice, 'parallel');
    const first = await p.submitOk({ client_submission_id: cid('par'), data: data('first') });
    submitRefused(await p.submit({ client_submission_id: cid('par'), data: data('second') }), 'TOO_MANY_IN_FLIGHT', 'second in flight');
    const bob = await env.participant(who.bob, 'parallel');
    await bob.submitOk({ client_submission_id: cid('par'), data: data('bob') });
    assert.equal((await p.cancel(first.submission_id)).ok, true);
    await p.waitFinal(first.submission_id);
    // At once: the participant saw CANCELLED, so a refusal now would contradict it, even
    // though the registry hears of the end a moment later (through the outbox).
    const third = await p.submitOk({ client_submission_id: 'par-after-cancel', data: data('third') });
    assert.equal(third.existing, false);
});

test('rounds: not open yet, closed without late submissions, late accepted, unknown round', async () => {
    const f = await env.participant(who.alice, 'future');
    const notYet = submitRefused(await f.submit({ client_submission_id: cid('r'), data: data('future') }), 'ROUND_CLOSED', 'round not open yet');
    assert.match(notYet.message, /open/i);

    const r = await env.participant(who.alice, 'rounds');
    submitRefused(await r.submit({ client_submission_id: cid('r'), round: 1, data: data('r1') }), 'ROUND_CLOSED', 'round 1 ended');
    submitRefused(await r.submit({ client_submission_id: cid('r'), round: 9, data: data('r9') }), 'UNKNOWN_ROUND', 'round 9');
    const now = await r.submitOk({ client_submission_id: cid('r'), data: data('r2') });
    assert.equal(now.round, 2, 'without a round: the open one');

    const l = await env.participant(who.alice, 'latecomers');
    const late = await l.submitOk({ client_submission_id: cid('r'), round: 1, data: data('late') });
    assert.equal(late.round, 1);
});

test('not qualified: round 2 needs the minimum score in round 1', async () => {
    const g = await env.grader({ pools: ['qual-pool'], name: 'qualifier' });
    const alice = await env.participant(who.alice, 'qual');
    const bob = await env.participant(who.bob, 'qual');
    const low = await alice.submitOk({ client_submission_id: cid('q'), round: 1, data: { plan: [{ complete: 0.3 }] } });
    const high = await bob.submitOk({ client_submission_id: cid('q'), round: 1, data: { plan: [{ complete: 0.7 }] } });
    assert.equal(low.round, 1);
    for (const [p, s] of [[alice, low], [bob, high]]) {
        // No waiting for the registry: the final event is enough to submit to round 2.
        assert.equal((await p.waitFinal(s.submission_id)).type, 'COMPLETE');
    }
    const no = submitRefused(await alice.submit({ client_submission_id: cid('q'), round: 2, data: data('r2') }), 'NOT_QUALIFIED', 'alice in round 2');
    assert.match(no.message, /0\.5/, 'says the minimum score');
    const noDefault = submitRefused(await alice.submit({ client_submission_id: cid('q'), data: data('r2') }), 'NOT_QUALIFIED', 'alice, open round');
    assert.equal(noDefault.code, 'NOT_QUALIFIED');
    const yes = await bob.submitOk({ client_submission_id: cid('q'), round: 2, data: { plan: [{ complete: 0.8 }] } });
    assert.equal(yes.round, 2);
    assert.equal((await bob.waitFinal(yes.submission_id)).type, 'COMPLETE');
    assert.deepEqual(g.errors(), []);
});

test('conflict: the same client_submission_id with other content', async () => {
    const p = await env.participant(who.carol, 'open');
    const ack = await p.submitOk({ client_submission_id: 'conflict-1', data: { a: 1 }, description: 'v1' });
    const c1 = submitRefused(await p.submit({ client_submission_id: 'conflict-1', data: { a: 2 }, description: 'v1' }), 'CONFLICT', 'other data');
    assert.match(c1.message, /conflict-1/);
    submitRefused(await p.submit({ client_submission_id: 'conflict-1', data: { a: 1 }, description: 'v2' }), 'CONFLICT', 'other description');
    const same = await p.submitOk({ client_submission_id: 'conflict-1', data: { a: 1 }, description: 'v1' });
    assert.equal(same.submission_id, ack.submission_id);
    // The same id is free for another participant.
    const other = await env.participant(who.bob, 'open');
    const theirs = await other.submitOk({ client_submission_id: 'conflict-1', data: { a: 2 } });
    assert.notEqual(theirs.submission_id, ack.submission_id);
});

test('malformed arguments: BAD_REQUEST each, and the socket and its neighbours carry on', async () => {
    const g = await env.grader({ pools: ['open-pool'], capacity: 2, name: 'open' });
    const p = await env.participant(who.carol, 'open');
    const neighbour = await env.participant(who.bob, 'open');
    const running = await neighbour.submitOk({ client_submission_id: cid('n'), data: { plan: [{ progress: 5 }, { pause: true }, { complete: 0.6 }] } });
    await g.waitJob(running.submission_id);
    const t = p.token;
    const base = { session_token: t, challenge_id: 'open', client_submission_id: cid('m'), data: { x: 1 } };
    const cases = [
        ['no client_submission_id', { ...base, client_submission_id: undefined }],
        ['empty client_submission_id', { ...base, client_submission_id: '' }],
        ['numeric client_submission_id', { ...base, client_submission_id: 5 }],
        ['client_submission_id of 129 bytes', { ...base, client_submission_id: 'x'.repeat(129) }],
        ['no challenge_id', { ...base, challenge_id: undefined }],
        ['round not a number', { ...base, round: 'one' }],
        ['negative round', { ...base, round: -1 }],
        ['neither data nor file_key', { ...base, data: undefined }],
        ['description too long', { ...base, description: 'd'.repeat(600) }],
        ['description not a string', { ...base, description: { text: 'hi' } }],
    ];
    // Every case is checked before failing (at the end), so that one report lists them all.
    const wrong = [];
    for (const [what, args] of cases) {
        try {
            submitRefused(await p.call('submit', args), 'BAD_REQUEST', what);
        } catch (err) {
            wrong.push(err.message);
        }
    }
    refused(await p.call('watch', { session_token: t, submission_id: 'abc', after_seq: 0 }), 'BAD_REQUEST', 'watch with a string id');
    refused(await p.call('status', { session_token: t }), 'BAD_REQUEST', 'status without an id');
    refused(await p.call('cancel', { session_token: t, submission_id: -4 }), 'BAD_REQUEST', 'cancel with a negative id');
    refused(await p.call('leaderboard', {}), 'BAD_REQUEST', 'leaderboard without challenge_id');
    refused(await p.call('leaderboard', { challenge_id: 'open', round: 'last' }), 'BAD_REQUEST', 'leaderboard with a bad round');
    for (const args of [['a string'], [[1, 2]], [null]]) {
        const a = await p.call('submit', args[0]);
        assert.equal(a.ok, false, `submit ${JSON.stringify(args[0])}: ${JSON.stringify(a)}`);
        assert.ok(typeof a.code === 'string' && typeof a.message === 'string');
    }
    // Still connected, still served.
    const fine = await p.submitOk({ client_submission_id: cid('m'), data: { plan: [{ complete: 0.55 }] } });
    assert.equal((await p.waitFinal(fine.submission_id)).type, 'COMPLETE');
    g.resume(running.submission_id);
    const n = await neighbour.waitFinal(running.submission_id);
    assert.deepEqual([n.type, n.data.score], ['COMPLETE', 0.6]);
    assert.deepEqual(wrong, [], 'each malformed submit refused BAD_REQUEST with submissions_remaining and reset_at');
});

test('graders: a bad grader key and bad auth are refused at CONNECT', async () => {
    const tryConnect = (auth) => new Promise((resolve, reject) => {
        const s = io(`${env.url}/grader`, { forceNew: true, reconnection: false, transports: ['websocket'], auth });
        const timer = setTimeout(() => {
            s.close();
            reject(new Error(`no connect_error for ${JSON.stringify(auth)}`));
        }, WAIT_MS);
        s.on('connect', () => {
            clearTimeout(timer);
            s.close();
            reject(new Error(`connected with ${JSON.stringify(auth)}`));
        });
        s.on('connect_error', (err) => {
            clearTimeout(timer);
            s.close();
            resolve(err.message);
        });
    });
    assert.equal(await tryConnect({ grader_key: 'not-a-key', pools: ['open-pool'], capacity: 1 }), 'Invalid grader key');
    assert.match(await tryConnect({ grader_key: env.graderKey, pools: [], capacity: 1 }), /pool/);
    assert.match(await tryConnect({ grader_key: env.graderKey, pools: ['open-pool'], capacity: 0 }), /capacity/);
    assert.match(await tryConnect({ pools: ['open-pool'], capacity: 1 }), /grader_key/);
    const g = await env.grader({ pools: ['open-pool'], name: 'fine' });
    assert.ok(g.socket.connected);
});
