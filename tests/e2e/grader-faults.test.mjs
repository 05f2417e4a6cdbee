// Grader faults: a grader killed with SIGKILL mid-job, a grader that stops (SIGSTOP) and comes
// back with a stale lease, a grader that fails for good, one that fails retryably every time
// (dead letter), and the per-job time limit. Each ends with the submission in a final state,
// the participant told, and exactly one score for a graded submission.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { assertScoredOnce, assertStream, cid, completeOks, createEnv, until } from './harness.mjs';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        seed: async (e) => {
            who.alice = await e.addParticipant('alice');
            for (const ch of ['killed', 'stopped', 'broken']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
            await e.createChallenge('flaky', { pool: 'flaky-pool', maxAttempts: 3 });
            await e.addRound('flaky', 1);
            await e.createChallenge('slow', { pool: 'slow-pool', timeLimit: 1 });
            await e.addRound('slow', 1);
        },
    });
});

afterEach(() => env.closeClients());
after(() => env && env.cleanup());

function statusUntil(p, id, state) {
    return until(async () => {
        const s = await p.status(id);
        assert.equal(s.ok, true, JSON.stringify(s));
        return s.state === state ? s : undefined;
    }, { what: `status of ${id} to be ${state}` });
}

/** The registry's view: the one row of `id`, once it is in `state`. */
function adminUntil(id, state) {
    return until(async () => {
        const rows = (await env.adminSubmissions()).filter((s) => s.id === id);
        assert.equal(rows.length, 1, `one row for submission ${id}`);
        return rows[0].state === state ? rows[0] : undefined;
    }, { what: `crowdai-admin submissions to show ${id} ${state}` });
}

test('kill -9 a grader mid-job: requeued after the lease (INFO) and completed by another grader', () => env.explain(async () => {
    const doomed = await env.childGrader({ pools: ['killed-pool'], name: 'doomed', plan: [{ progress: 20 }, { pause: true }, { complete: 0.01 }] });
    const p = await env.participant(who.alice, 'killed');
    const ack = await p.submitOk({ client_submission_id: cid('kill'), data: { n: 1 } });
    const sub = ack.submission_id;
    const first = await doomed.waitJob(sub);
    await p.waitEvent(sub, 'PROGRESS_UPDATE');
    await doomed.kill9();

    const rescuer = await env.grader({ pools: ['killed-pool'], name: 'rescuer', plan: [{ progress: 70 }, { complete: 0.77, secondary: 1 }] });
    const final = await p.waitFinal(sub, { timeout: 20000 });
    assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
    assert.deepEqual(final.data, { score: 0.77, score_secondary: 1 });
    await p.settle();
    const evs = p.events(sub);
    assertStream(evs, 1);
    assert.deepEqual(evs.map((e) => e.type),
        ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'RUNNING', 'PROGRESS_UPDATE', 'COMPLETE']);
    assert.ok(evs[3].message.length > 0, 'the INFO says what happened');

    const second = rescuer.jobs(sub);
    assert.equal(second.length, 1);
    assert.equal(first.attempt, 1);
    assert.equal(second[0].attempt, 2);
    assert.notEqual(second[0].lease_token, first.lease_token);
    await assertScoredOnce([doomed, rescuer], sub);
    const st = await statusUntil(p, sub, 'COMPLETE');
    assert.equal(st.score, 0.77);
    const row = await adminUntil(sub, 'COMPLETE');
    assert.equal(row.score, 0.77);
    assert.deepEqual(rescuer.errors(), []);
}));

test('SIGSTOP a grader past its lease, then SIGCONT: its late complete is STALE_LEASE and changes nothing', () => env.explain(async () => {
    const sleepy = await env.childGrader({ pools: ['stopped-pool'], name: 'sleepy', plan: [{ progress: 20 }, { pause: true }, { complete: 0.11 }] });
    const p = await env.participant(who.alice, 'stopped');
    const ack = await p.submitOk({ client_submission_id: cid('stop'), data: { n: 2 } });
    const sub = ack.submission_id;
    const job = await sleepy.waitJob(sub);
    const progress = await sleepy.waitReport(sub, 'progress');
    assert.equal(progress.ack.ok, true);
    sleepy.signal('SIGSTOP');
    try {
        const awake = await env.grader({ pools: ['stopped-pool'], name: 'awake', plan: [{ progress: 60 }, { complete: 0.66 }] });
        const final = await p.waitFinal(sub, { timeout: 20000 });
        const st0 = await until(async () => {
            const s = await p.status(sub);
            return s.state === final.type ? s : undefined;
        }, { what: `status ${final.type}` });
        await p.settle();
        const before = p.events(sub).length;

        sleepy.signal('SIGCONT');
        sleepy.report('complete', { submission_id: sub, lease_token: job.lease_token, score: 0.11 });
        const late = await sleepy.rec.waitFor('report', (r) => r.event === 'complete' && r.args.lease_token === job.lease_token,
            { what: 'the late complete acked' });
        assert.equal(late.ack.ok, false, JSON.stringify(late));
        assert.equal(late.ack.code, 'STALE_LEASE');

        await p.settle();
        assert.equal(p.events(sub).length, before, 'no event from the stale complete');
        const st = await p.status(sub);
        assert.deepEqual(st, st0, 'the stale complete changed nothing');

        // The requeued job went to the grader that was responding, and was graded once.
        assert.deepEqual(p.types(sub).filter((t) => t === 'RUNNING').length, 2,
            `one requeue, to the awake grader: ${p.types(sub)}; attempts given to the stopped one: ${sleepy.jobs(sub).map((j) => j.attempt)}`);
        assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
        assert.equal(final.data.score, 0.66);
        assertStream(p.events(sub), 1);
        assert.deepEqual([st.state, st.score], ['COMPLETE', 0.66]);
        const lb = await p.leaderboard('stopped');
        assert.deepEqual(lb.rows.map((r) => [r.submission_id, r.score, r.submissions]), [[sub, 0.66, 1]]);
        await assertScoredOnce([sleepy, awake], sub);
        assert.equal(awake.jobs(sub)[0].attempt, 2);
    } finally {
        sleepy.signal('SIGCONT');
    }
}));

test('a grader failing for good: ERROR with its message', () => env.explain(async () => {
    const g = await env.grader({ pools: ['broken-pool'], name: 'strict' });
    const p = await env.participant(who.alice, 'broken');
    const reason = 'predictions.csv has 3 columns, 4 expected';
    const ack = await p.submitOk({ client_submission_id: cid('fail'), data: { plan: [{ progress: 5 }, { fail: reason, retryable: false }] } });
    const sub = ack.submission_id;
    const final = await p.waitFinal(sub);
    assert.equal(final.type, 'ERROR', JSON.stringify(final));
    assert.ok(final.message.includes(reason), `the grader's reason in ${JSON.stringify(final.message)}`);
    await p.settle();
    assertStream(p.events(sub), 1);
    assert.deepEqual(p.types(sub), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'ERROR']);
    const fail = await g.waitReport(sub, 'fail');
    assert.equal(fail.ack.ok, true);
    assert.equal(g.jobs(sub).length, 1, 'not retried');
    const st = await statusUntil(p, sub, 'ERROR');
    assert.ok(st.message.includes(reason), `status message ${JSON.stringify(st.message)}`);
    assert.equal(st.score, null);
    await adminUntil(sub, 'ERROR');
    assert.deepEqual((await p.leaderboard('broken')).rows, []);
}));

test('a grader failing retryably every time: retried, then dead-lettered with the participant told', () => env.explain(async () => {
    const g = await env.grader({ pools: ['flaky-pool'], name: 'flaky' });
    const p = await env.participant(who.alice, 'flaky');
    const reason = 'scratch disk full';
    const ack = await p.submitOk({ client_submission_id: cid('flaky'), data: { plan: [{ fail: reason, retryable: true }] } });
    const sub = ack.submission_id;
    const final = await p.waitFinal(sub, { timeout: 20000 });
    assert.equal(final.type, 'ERROR', JSON.stringify(final));
    assert.ok(final.message.includes(reason), `the grader's reason in ${JSON.stringify(final.message)}`);
    await p.settle();
    const evs = p.events(sub);
    assertStream(evs, 1);
    const types = p.types(sub);
    assert.equal(types.filter((t) => t === 'RUNNING').length, 3, `three attempts: ${types}`);
    // Each retry is announced: an INFO between one attempt and the next.
    const between = types.join(' ').split('RUNNING').slice(1, -1);
    assert.equal(between.length, 2);
    for (const gap of between) assert.match(gap, /INFO/, `each retry announced: ${types}`);
    assert.deepEqual(g.jobs(sub).map((j) => j.attempt), [1, 2, 3]);
    assert.equal(new Set(g.jobs(sub).map((j) => j.lease_token)).size, 3, 'a new lease per attempt');
    assert.deepEqual(g.reports(sub, 'fail').map((r) => r.ack.ok), [true, true, true]);
    await statusUntil(p, sub, 'ERROR');
    await adminUntil(sub, 'ERROR');
}));

test('past the time limit: TIMEOUT, the grader gets cancel, its next report is STALE_LEASE', () => env.explain(async () => {
    const g = await env.grader({ pools: ['slow-pool'], name: 'slow', plan: [{ ticks: 100, every: 100 }] });
    const p = await env.participant(who.alice, 'slow');
    const ack = await p.submitOk({ client_submission_id: cid('slow'), data: { n: 3 } });
    const sub = ack.submission_id;
    const job = await g.waitJob(sub);
    const final = await p.waitFinal(sub, { timeout: 15000 });
    assert.equal(final.type, 'TIMEOUT', JSON.stringify(final));
    assert.ok(final.message.length > 0);
    const cancel = await g.rec.waitFor('cancel', (m) => m.submission_id === sub, { what: `cancel of ${sub}` });
    assert.equal(cancel.lease_token, job.lease_token);
    const late = await g.report('progress', { submission_id: sub, lease_token: job.lease_token, percent: 99 });
    assert.equal(late.code, 'STALE_LEASE', JSON.stringify(late));
    await statusUntil(p, sub, 'TIMEOUT');
    await p.settle();
    assertStream(p.events(sub), 1);
    assert.equal(completeOks([g], sub), 0);
}));

test('in the end: every acked submission is final, each graded one scored exactly once', () => env.explain(async () => {
    const rows = await env.assertAllFinal();
    assert.equal(rows.length, 5);
}));
