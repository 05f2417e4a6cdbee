// The happy path end to end, ranking by primary then secondary score in both sort orders, and
// idempotent submit: real broker, real redis-server, socket.io-client participants and graders.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, assertScoredOnce, assertStream, cid, createEnv, until } from './harness.mjs';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            for (const name of ['alice', 'bob', 'carol', 'dave']) who[name] = await e.addParticipant(name);
            await e.createChallenge('happy', { title: 'Happy path', pool: 'happy-pool', primary: 'accuracy:desc', secondary: 'runtime:asc' });
            await e.addRound('happy', 1);
            await e.createChallenge('rank-desc', { pool: 'rank-pool', primary: 'f1:desc', secondary: 'loss:asc' });
            await e.addRound('rank-desc', 1);
            await e.createChallenge('rank-asc', { pool: 'rank-pool', primary: 'rmse:asc', secondary: 'seconds:desc' });
            await e.addRound('rank-asc', 1);
            await e.createChallenge('idem', { pool: 'idem-pool' });
            await e.addRound('idem', 1);
        },
    });
});

afterEach(() => env.closeClients());
after(() => env && env.cleanup());

/** Waits until `status` of `id` answers a final state; returns that answer. */
function finalStatus(p, id) {
    return until(async () => {
        const s = await p.status(id);
        assert.equal(s.ok, true, JSON.stringify(s));
        return ['COMPLETE', 'ERROR', 'TIMEOUT', 'CANCELLED'].includes(s.state) ? s : undefined;
    }, { what: `status of ${id} to be final` });
}

test('happy path: events in order with seq 1..n, score in status and on both leaderboards', async () => {
    const g = await env.grader({ pools: ['happy-pool'], name: 'happy' });
    const p = await env.participant(who.alice, 'happy');
    const plan = [
        { progress: 10, message: 'read 100 of 1000 rows' },
        { progress: 40, message: 'read 400 of 1000 rows' },
        { progress: 90, message: 'read 900 of 1000 rows' },
        { complete: 0.875, secondary: 12.5 },
    ];
    const data = { plan, predictions: [1, 0, 1, 1] };
    const ack = await p.submitOk({ client_submission_id: cid('happy'), data, description: 'first try' });
    assert.equal(ack.state, 'QUEUED');
    assert.equal(ack.existing, false);
    assert.equal(ack.round, 1);
    assert.ok(Number.isInteger(ack.position) && ack.position >= 0, `position ${ack.position}`);
    const sub = ack.submission_id;
    assert.ok(Number.isInteger(sub) && sub > 0);

    const final = await p.waitFinal(sub);
    assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
    assert.deepEqual(final.data, { score: 0.875, score_secondary: 12.5 });
    await p.settle();
    const evs = p.events(sub);
    assertStream(evs, 1);
    assert.deepEqual(evs.map((e) => e.type),
        ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'PROGRESS_UPDATE', 'PROGRESS_UPDATE', 'COMPLETE']);
    assert.equal(evs[0].position, ack.position, 'ENQUEUED carries the queue position');
    assert.deepEqual(evs.slice(2, 5).map((e) => [e.percent, e.message]),
        plan.slice(0, 3).map((s) => [s.progress, s.message]));

    // What the grader was given.
    const jobs = g.jobs(sub);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].attempt, 1);
    assert.equal(jobs[0].challenge_id, 'happy');
    assert.equal(jobs[0].round, 1);
    assert.equal(jobs[0].participant_id, who.alice.id);
    assert.deepEqual(jobs[0].data, data);
    assert.equal(typeof jobs[0].lease_token, 'string');
    assert.ok(!Number.isNaN(Date.parse(jobs[0].deadline)), `deadline ${jobs[0].deadline}`);
    await assertScoredOnce([g], sub);
    assert.deepEqual(g.errors(), []);

    const st = await finalStatus(p, sub);
    assert.equal(st.state, 'COMPLETE');
    assert.equal(st.submission_id, sub);
    assert.equal(st.round, 1);
    assert.equal(st.score, 0.875);
    assert.equal(st.score_secondary, 12.5);
    assert.ok(st.position === null || st.position === undefined, `no queue position once graded: ${st.position}`);

    const lb = await until(async () => {
        const r = await p.leaderboard('happy');
        assert.equal(r.ok, true, JSON.stringify(r));
        return r.rows.length > 0 ? r : undefined;
    }, { what: 'the happy leaderboard to have a row' });
    assert.equal(lb.challenge_id, 'happy');
    assert.equal(lb.rows.length, 1);
    const row = lb.rows[0];
    assert.deepEqual([row.rank, row.participant, row.submission_id, row.score, row.score_secondary, row.submissions],
        [1, 'alice', sub, 0.875, 12.5, 1]);
    assert.ok(!Number.isNaN(Date.parse(row.best_at)));

    const adminRows = await env.adminLeaderboard('happy');
    assert.deepEqual(adminRows.map((r) => [r.rank, r.participant, r.submission_id, r.score, r.score_secondary]),
        [[1, 'alice', sub, 0.875, 12.5]]);
    const subs = (await env.adminSubmissions()).filter((s) => s.id === sub);
    assert.equal(subs.length, 1);
    assert.equal(subs[0].state, 'COMPLETE');
    assert.equal(subs[0].score, 0.875);
});

test('ranking by primary then secondary score, in both sort orders', async () => {
    const g = await env.grader({ pools: ['rank-pool'], capacity: 4, name: 'ranker' });
    // [participant, challenge, primary, secondary]: each participant's best decides the rank.
    const plan = [
        ['alice', 'rank-desc', 0.9, 5], ['alice', 'rank-desc', 0.2, 0], ['bob', 'rank-desc', 0.9, 3],
        ['carol', 'rank-desc', 0.5, 1], ['dave', 'rank-desc', 0.95, 9],
        ['alice', 'rank-asc', 1.0, 2], ['bob', 'rank-asc', 1.0, 7], ['carol', 'rank-asc', 0.5, 0],
        ['carol', 'rank-asc', 0.7, 50], ['dave', 'rank-asc', 2.0, 100],
    ];
    const sockets = new Map();
    const subs = [];
    for (const [name, ch, score, secondary] of plan) {
        const k = `${name}/${ch}`;
        if (!sockets.has(k)) sockets.set(k, await env.participant(who[name], ch));
        const p = sockets.get(k);
        const ack = await p.submitOk({ client_submission_id: cid('rank'), data: { plan: [{ complete: score, secondary }] } });
        subs.push({ name, ch, score, secondary, id: ack.submission_id, p });
    }
    for (const s of subs) {
        const final = await s.p.waitFinal(s.id);
        assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
        assert.deepEqual(final.data, { score: s.score, score_secondary: s.secondary });
        await assertScoredOnce([g], s.id);
    }
    const idOf = (name, ch, score) => subs.find((s) => s.name === name && s.ch === ch && s.score === score).id;
    const expected = {
        // f1 higher is better; equal f1 -> lower loss first.
        'rank-desc': [['dave', 0.95, 9, 1], ['bob', 0.9, 3, 1], ['alice', 0.9, 5, 2], ['carol', 0.5, 1, 1]],
        // rmse lower is better; equal rmse -> more seconds first.
        'rank-asc': [['carol', 0.5, 0, 2], ['bob', 1.0, 7, 1], ['alice', 1.0, 2, 1], ['dave', 2.0, 100, 1]],
    };
    const viewer = sockets.get('alice/rank-desc');
    for (const [ch, rows] of Object.entries(expected)) {
        const want = rows.map(([name, score, secondary, n], i) => [i + 1, name, idOf(name, ch, score), score, secondary, n]);
        const total = rows.reduce((n, r) => n + r[3], 0);
        const lb = await until(async () => {
            const r = await viewer.leaderboard(ch);
            assert.equal(r.ok, true, JSON.stringify(r));
            return r.rows.reduce((n, row) => n + row.submissions, 0) === total ? r : undefined;
        }, { what: `every graded submission of ${ch} on its leaderboard` });
        assert.deepEqual(lb.rows.map((r) => [r.rank, r.participant, r.submission_id, r.score, r.score_secondary, r.submissions]), want,
            `socket leaderboard of ${ch}`);
        const adminRows = await env.adminLeaderboard(ch);
        assert.deepEqual(adminRows.map((r) => [r.rank, r.participant, r.submission_id, r.score, r.score_secondary]),
            want.map((w) => w.slice(0, 5)), `crowdai-admin leaderboard ${ch} --json`);
    }
    assert.deepEqual(g.errors(), []);
});

test('idempotent submit: the same client_submission_id is one submission, graded once', async () => {
    const g = await env.grader({ pools: ['idem-pool'], name: 'idem' });
    const p = await env.participant(who.bob, 'idem');
    const q = await env.participant(who.bob, 'idem'); // the same participant on a second socket
    const id = cid('idem');
    const data = { plan: [{ progress: 50 }, { pause: true }, { complete: 0.42 }], file: 'a,b\n1,2\n' };
    const first = await p.submitOk({ client_submission_id: id, data, description: 'once' });
    assert.equal(first.existing, false);
    const [again, other] = await Promise.all([
        p.submitOk({ client_submission_id: id, data, description: 'once' }),
        q.submitOk({ client_submission_id: id, data, description: 'once' }),
    ]);
    for (const a of [again, other]) {
        assert.equal(a.submission_id, first.submission_id);
        assert.equal(a.existing, true);
        assert.equal(a.round, first.round);
    }
    const sub = first.submission_id;
    await g.waitJob(sub);
    await p.waitEvent(sub, 'PROGRESS_UPDATE');
    g.resume(sub);
    const final = await p.waitFinal(sub);
    assert.equal(final.type, 'COMPLETE');
    assert.equal(final.data.score, 0.42);
    await q.waitFinal(sub);

    // A retry after it was graded still answers the same submission and grades nothing again.
    const late = await p.submitOk({ client_submission_id: id, data, description: 'once' });
    assert.equal(late.submission_id, sub);
    assert.equal(late.existing, true);
    const st = await finalStatus(p, sub);
    assert.equal(st.state, 'COMPLETE');
    assert.equal(st.score, 0.42);
    assert.equal(final.data.score_secondary, null, 'the grader gave no secondary score');
    assert.equal(st.score_secondary, null, 'no secondary score in status either');
    await p.settle();
    await q.settle();

    assert.equal(g.jobs(sub).length, 1, 'graded once');
    await assertScoredOnce([g], sub);

    const mine = (await env.adminSubmissions()).filter((s) => s.id === sub || (s.client_submission_id === id));
    assert.equal(mine.length, 1, `one row for ${id}: ${JSON.stringify(mine)}`);
    assert.equal(mine[0].state, 'COMPLETE');
    const lb = await p.leaderboard('idem');
    assert.deepEqual(lb.rows.map((r) => [r.participant, r.submission_id, r.score, r.submissions]), [['bob', sub, 0.42, 1]]);
    // Each socket got each event once, in order, although it submitted the same id again.
    assertStream(p.events(sub), 1);
    assertStream(q.events(sub), 1);
    assert.deepEqual(p.types(sub), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'COMPLETE']);
});
