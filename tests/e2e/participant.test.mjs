// watch after a disconnect, privacy of submissions, no grader online, and cancel (queued and
// running), end to end against the real broker.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, assertScoredOnce, assertStream, cid, completeOks, createEnv, until } from './harness.mjs';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            for (const name of ['alice', 'bob']) who[name] = await e.addParticipant(name);
            for (const ch of ['watch', 'lonely', 'cancel']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
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

/** The fields of an event that must be the same whoever receives it, whenever. */
const essence = (e) => [e.submission_id, e.seq, e.type, e.percent, e.message, JSON.stringify(e.data), e.at];

test('watch after a disconnect replays exactly the missed events, then follows live', async () => {
    const g = await env.grader({ pools: ['watch-pool'], name: 'watch' });
    const first = await env.participant(who.alice, 'watch');
    const plan = [
        { progress: 10, message: 'ten' }, { pause: 'a' },
        { progress: 50, message: 'fifty' }, { pause: 'b' },
        { progress: 90, message: 'ninety' }, { complete: 0.66 },
    ];
    const ack = await first.submitOk({ client_submission_id: cid('watch'), data: { plan } });
    const sub = ack.submission_id;
    await first.waitEvent(sub, (e) => e.type === 'PROGRESS_UPDATE' && e.percent === 10);
    const seen = first.lastSeq(sub);
    assertStream(first.events(sub), 1);
    first.close();

    // While nobody watches: one more progress report.
    g.resume(sub, 'a');
    const fifty = await g.waitReport(sub, 'progress', { count: 2 });
    assert.equal(fifty.ack.ok, true, JSON.stringify(fifty));

    // A new socket, the same session token: watch from the last seq seen.
    const again = await env.participant(who.alice, 'watch', { authenticate: false });
    again.token = first.token;
    const w = await again.watch(sub, seen);
    assert.equal(w.ok, true, JSON.stringify(w));
    assert.equal(w.submission_id, sub);
    assert.equal(w.state, 'RUNNING');
    assert.equal(w.round, 1);
    assert.equal(w.score, null);
    const missed = await again.waitEvent(sub, 'PROGRESS_UPDATE');
    assert.equal(missed.seq, seen + 1);
    assert.equal(missed.percent, 50);
    assert.equal(missed.message, 'fifty');

    // Then live.
    g.resume(sub, 'b');
    const final = await again.waitFinal(sub);
    assert.equal(final.type, 'COMPLETE');
    assert.equal(final.data.score, 0.66);
    await again.settle();
    const after = again.events(sub);
    assertStream(after, seen + 1);
    assert.deepEqual(after.map((e) => [e.type, e.percent]),
        [['PROGRESS_UPDATE', 50], ['PROGRESS_UPDATE', 90], ['COMPLETE', 100]]);
    assert.equal(first.events(sub).length, seen, 'the closed socket got nothing more');

    // A third socket watching from 0 gets the whole history, identical to what was sent live.
    const replay = await env.participant(who.alice, 'watch', { authenticate: false });
    replay.token = first.token;
    const w0 = await replay.watch(sub, 0);
    assert.equal(w0.ok, true);
    assert.equal(w0.state, 'COMPLETE');
    assert.equal(w0.score, 0.66);
    await replay.waitFinal(sub);
    await replay.settle();
    assertStream(replay.events(sub), 1);
    assert.deepEqual(replay.events(sub).map(essence), [...first.events(sub), ...after].map(essence));
    await assertScoredOnce([g], sub);
});

test("another participant's submission answers NOT_FOUND, as one that does not exist", async () => {
    const g = await env.grader({ pools: ['watch-pool'], name: 'watch2' });
    const alice = await env.participant(who.alice, 'watch');
    const bob = await env.participant(who.bob, 'watch');
    const ack = await alice.submitOk({ client_submission_id: cid('private'), data: { plan: [{ pause: true }, { complete: 0.5 }] } });
    const sub = ack.submission_id;
    await g.waitJob(sub);
    const missing = 2_000_000_000;
    const answers = {};
    for (const [name, id] of [['theirs', sub], ['missing', missing]]) {
        answers[name] = [await bob.watch(id, 0), await bob.status(id), await bob.cancel(id)];
    }
    for (const a of [...answers.theirs, ...answers.missing]) {
        assert.equal(a.ok, false, JSON.stringify(a));
        assert.equal(a.code, 'NOT_FOUND', JSON.stringify(a));
        assert.ok(typeof a.message === 'string' && a.message.length > 0);
    }
    assert.deepEqual(answers.theirs, answers.missing, 'the same answers for theirs and for a missing id');
    // bob's cancel changed nothing: alice's submission is still graded.
    g.resume(sub);
    const final = await alice.waitFinal(sub);
    assert.equal(final.type, 'COMPLETE');
    await bob.settle();
    assert.deepEqual(bob.events(sub), [], 'bob received none of its events');
});

test('no grader online: WAITING at once, queued with positions, graded when a grader connects', async () => {
    const p = await env.participant(who.alice, 'lonely');
    const s1 = await p.submitOk({ client_submission_id: cid('lonely'), data: { plan: [{ progress: 50 }, { complete: 0.3 }] } });
    const s2 = await p.submitOk({ client_submission_id: cid('lonely'), data: { plan: [{ complete: 0.4 }] } });
    assert.equal(s1.position, 0);
    assert.equal(s2.position, 1);
    // WAITING is checked at the end, so that the rest is checked even when it does not come.
    const waiting = await Promise.all([s1, s2].map((s) => p.waitEvent(s.submission_id, 'WAITING', { timeout: 3000 })
        .then((e) => e.message.length > 0, () => false)));
    const st1 = await p.status(s1.submission_id);
    const st2 = await p.status(s2.submission_id);
    assert.deepEqual([st1.ok, st1.state, st1.position], [true, 'QUEUED', 0], JSON.stringify(st1));
    assert.deepEqual([st2.ok, st2.state, st2.position], [true, 'QUEUED', 1], JSON.stringify(st2));
    assert.equal(st1.score, null);

    const g = await env.grader({ pools: ['lonely-pool'], name: 'latecomer' });
    const f1 = await p.waitFinal(s1.submission_id);
    const f2 = await p.waitFinal(s2.submission_id);
    assert.deepEqual([f1.type, f1.data.score], ['COMPLETE', 0.3]);
    assert.deepEqual([f2.type, f2.data.score], ['COMPLETE', 0.4]);
    await p.settle();
    assert.deepEqual(g.jobs().map((j) => j.submission_id), [s1.submission_id, s2.submission_id], 'first queued, first graded');
    await statusUntil(p, s2.submission_id, 'COMPLETE');
    assertStream(p.events(s1.submission_id), 1);
    assertStream(p.events(s2.submission_id), 1);
    assert.deepEqual(waiting, [true, true], 'WAITING, with a reason, at once for each submission');
    assert.deepEqual(p.types(s1.submission_id), ['ENQUEUED', 'WAITING', 'RUNNING', 'PROGRESS_UPDATE', 'COMPLETE']);
    assert.deepEqual(p.types(s2.submission_id), ['ENQUEUED', 'WAITING', 'RUNNING', 'COMPLETE']);
});

test('cancel a queued job: CANCELLED, and it is never dispatched', async () => {
    const p = await env.participant(who.alice, 'cancel');
    const ack = await p.submitOk({ client_submission_id: cid('cancel-q'), data: { plan: [{ complete: 0.1 }] } });
    const sub = ack.submission_id;
    await p.waitEvent(sub, 'ENQUEUED');
    const c = await p.cancel(sub);
    assert.deepEqual(c, { ok: true, submission_id: sub, state: 'CANCELLED' });
    const ev = await p.waitFinal(sub);
    assert.equal(ev.type, 'CANCELLED');
    assert.ok(ev.message.length > 0);
    const st = await statusUntil(p, sub, 'CANCELLED');
    assert.equal(st.score, null);
    const twice = await p.cancel(sub);
    assert.equal(twice.ok, false, `a second cancel has nothing to cancel: ${JSON.stringify(twice)}`);

    // A grader for the pool now: it gets the next submission, never the cancelled one.
    const g = await env.grader({ pools: ['cancel-pool'], name: 'canceller' });
    const next = await p.submitOk({ client_submission_id: cid('cancel-q'), data: { plan: [{ complete: 0.2 }] } });
    const f = await p.waitFinal(next.submission_id);
    assert.equal(f.type, 'COMPLETE');
    assert.deepEqual(g.jobs().map((j) => j.submission_id), [next.submission_id]);
    await p.settle();
    assertStream(p.events(sub), 1);
    assert.deepEqual(p.types(sub), ['ENQUEUED', 'WAITING', 'CANCELLED']);
});

test('cancel a running job: the grader gets cancel, its late complete is refused STALE_LEASE', async () => {
    const g = await env.grader({ pools: ['cancel-pool'], name: 'running' });
    const p = await env.participant(who.bob, 'cancel');
    const ack = await p.submitOk({ client_submission_id: cid('cancel-r'), data: { plan: [{ progress: 30 }, { pause: true }, { complete: 0.9 }] } });
    const sub = ack.submission_id;
    const job = await g.waitJob(sub);
    await p.waitEvent(sub, 'PROGRESS_UPDATE');
    const c = await p.cancel(sub);
    assert.deepEqual(c, { ok: true, submission_id: sub, state: 'CANCELLED' });
    const cancel = await g.rec.waitFor('cancel', (m) => m.submission_id === sub, { what: `cancel of ${sub}` });
    assert.equal(cancel.lease_token, job.lease_token);
    assert.ok(typeof cancel.reason === 'string' && cancel.reason.length > 0);
    const ev = await p.waitFinal(sub);
    assert.equal(ev.type, 'CANCELLED');

    const late = await g.report('complete', { submission_id: sub, lease_token: job.lease_token, score: 0.9 });
    assert.equal(late.ok, false);
    assert.equal(late.code, 'STALE_LEASE');
    const st = await statusUntil(p, sub, 'CANCELLED');
    assert.equal(st.score, null);
    assert.equal(completeOks([g], sub), 0);

    // The grader's slot is free again: the next submission is graded by it.
    const next = await p.submitOk({ client_submission_id: cid('cancel-r'), data: { plan: [{ complete: 0.25 }] } });
    assert.equal((await p.waitFinal(next.submission_id)).type, 'COMPLETE');
    await p.settle();
    assertStream(p.events(sub), 1);
    assert.deepEqual(p.types(sub), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'CANCELLED']);
    const lb = await p.leaderboard('cancel');
    assert.ok(!lb.rows.some((r) => r.submission_id === sub), 'a cancelled submission is not ranked');
});

test('watch of a submission whose oldest events were trimmed goes on from the oldest kept, then live', async () => {
    // The stream keeps about 1,000 events per submission; this grading makes 1,200 and more.
    const g = await env.grader({ pools: ['watch-pool'], name: 'chatty' });
    const p = await env.participant(who.bob, 'watch');
    const plan = [{ ticks: 1200, every: 0 }, { pause: 'end' }, { complete: 0.5 }];
    const ack = await p.submitOk({ client_submission_id: cid('chatty'), data: { plan } });
    const sub = ack.submission_id;
    await until(() => g.reports(sub, 'progress').length === 1200, { what: '1,200 progress reports', timeout: 60000 });

    // A new socket asks for everything, as a reloaded page does.
    const late = await env.participant(who.bob, 'watch');
    const w = await late.watch(sub, 0);
    assert.equal(w.ok, true, JSON.stringify(w));
    await until(() => late.events(sub).length > 0, { what: 'the replay of the kept events' });
    const replayed = late.events(sub);
    assert.ok(replayed[0].seq > 1, `the first event replayed is ${replayed[0].seq}, not a trimmed one`);
    assertStream(replayed, replayed[0].seq);
    g.resume(sub, 'end');
    const done = await late.waitEvent(sub, (e) => e.type === 'COMPLETE');
    const original = await p.waitEvent(sub, (e) => e.type === 'COMPLETE');
    assert.equal(done.seq, original.seq);
    assertStream(late.events(sub), replayed[0].seq);
    assert.equal(late.events(sub).at(-1).type, 'COMPLETE');
});

test('watch aimed again while its replay is in flight replays from the new point, nothing lost', async () => {
    const g = await env.grader({ pools: ['watch-pool'], name: 'reaimed' });
    const p = await env.participant(who.alice, 'watch');
    const plan = [{ ticks: 60, every: 0 }, { pause: 'end' }, { complete: 0.25 }];
    const ack = await p.submitOk({ client_submission_id: cid('reaim'), data: { plan } });
    const sub = ack.submission_id;
    await until(() => g.reports(sub, 'progress').length === 60, { what: '60 progress reports' });
    const total = p.lastSeq(sub);
    const other = await env.participant(who.alice, 'watch');
    // Both calls leave before either is answered: the first replay is still in flight.
    const [a, b] = await Promise.all([other.watch(sub, 50), other.watch(sub, 0)]);
    assert.equal(a.ok, true, JSON.stringify(a));
    assert.equal(b.ok, true, JSON.stringify(b));
    await until(() => other.events(sub).filter((e) => e.seq === total).length >= 1 && other.events(sub).some((e) => e.seq === 1),
        { what: 'the replay from the start' });
    await until(() => {
        const seqs = other.events(sub).map((e) => e.seq);
        const from = seqs.lastIndexOf(1);
        return from >= 0 && seqs.length - from === total ? true : undefined;
    }, { what: `seq 1..${total} after the second watch` });
    const seqs = other.events(sub).map((e) => e.seq);
    const tail = seqs.slice(seqs.lastIndexOf(1));
    assert.deepEqual(tail, Array.from({ length: total }, (_, i) => i + 1));
    g.resume(sub, 'end');
    await other.waitEvent(sub, (e) => e.type === 'COMPLETE');
});
