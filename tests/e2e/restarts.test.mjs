// Crashes under the broker: kill -9 of its private redis-server (the broker's supervisor
// restarts it; the append-only file keeps everything acked) and kill -9 of the broker itself,
// restarted on the same data directory and port (graders and participants reconnect, the
// participant watches again). Nothing acked is lost and each submission is scored once.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { assertScoredOnce, assertStream, cid, createEnv, parentPid, redisPids, until } from './harness.mjs';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        seed: async (e) => {
            who.alice = await e.addParticipant('alice');
            who.bob = await e.addParticipant('bob');
            for (const ch of ['redis-crash', 'broker-crash']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
        },
    });
});

afterEach(() => env.closeClients());
after(() => env && env.cleanup());

const essence = (e) => [e.submission_id, e.seq, e.type, e.percent, e.message, JSON.stringify(e.data), e.at];

/** The registry's row of each id, once every one is in `state`. */
function adminUntil(ids, state) {
    return until(async () => {
        const rows = (await env.adminSubmissions()).filter((s) => ids.includes(s.id));
        assert.equal(rows.length, ids.length, `one row per submission: ${JSON.stringify(rows)}`);
        return rows.every((r) => r.state === state) ? rows : undefined;
    }, { what: `crowdai-admin submissions to show ${ids} ${state}`, timeout: 15000 });
}

test('kill -9 the private redis-server: restarted by the broker, nothing acked lost', () => env.explain(async () => {
    const g = await env.grader({ pools: ['redis-crash-pool'], name: 'through-redis' });
    const p = await env.participant(who.alice, 'redis-crash');
    const r1 = await p.submitOk({ client_submission_id: cid('rc'), data: { plan: [{ progress: 10 }, { pause: true }, { progress: 60 }, { complete: 0.71 }] } });
    const r2 = await p.submitOk({ client_submission_id: cid('rc'), data: { plan: [{ complete: 0.72 }] } });
    await p.waitEvent(r1.submission_id, 'PROGRESS_UPDATE');
    await p.waitEvent(r2.submission_id, 'ENQUEUED');

    const before = redisPids(env.dir);
    assert.equal(before.length, 1, `one redis-server under the data directory: ${before}`);
    assert.equal(parentPid(before[0]), env.broker.pid, 'the broker started it');
    process.kill(before[0], 'SIGKILL');
    const now = await until(() => {
        const pids = redisPids(env.dir).filter((pid) => pid !== before[0]);
        return pids.length ? pids : undefined;
    }, { what: 'the broker to start a new redis-server', timeout: 15000 });
    assert.equal(now.length, 1);
    assert.equal(parentPid(now[0]), env.broker.pid);

    g.resume(r1.submission_id);
    const r3 = await p.submitRetrying({ client_submission_id: cid('rc'), data: { plan: [{ complete: 0.73 }] } });
    const want = [[r1, 0.71], [r2, 0.72], [r3, 0.73]];
    for (const [s, score] of want) {
        const f = await p.waitFinal(s.submission_id, { timeout: 20000 });
        assert.deepEqual([f.type, f.data && f.data.score], ['COMPLETE', score], JSON.stringify(f));
        await assertScoredOnce([g], s.submission_id);
    }
    await p.settle();
    for (const [s] of want) assertStream(p.events(s.submission_id), 1);

    // The event history survived in the append-only file: a new watcher gets all of it.
    const other = await env.participant(who.alice, 'redis-crash', { authenticate: false });
    other.token = p.token;
    for (const [s] of want) {
        const w = await other.watch(s.submission_id, 0);
        assert.equal(w.ok, true, JSON.stringify(w));
        await other.waitFinal(s.submission_id);
    }
    await other.settle();
    for (const [s] of want) assert.deepEqual(other.events(s.submission_id).map(essence), p.events(s.submission_id).map(essence));
    const rows = await adminUntil(want.map(([s]) => s.submission_id), 'COMPLETE');
    assert.deepEqual(rows.map((r) => r.score).sort(), [0.71, 0.72, 0.73]);
    assert.equal(redisPids(env.dir).length, 1);
}));

test('kill -9 the broker mid-stream and restart it: graders and participants reconnect, nothing lost', () => env.explain(async () => {
    const g = await env.grader({ pools: ['broker-crash-pool'], name: 'through-broker' });
    const p = await env.participant(who.bob, 'broker-crash', { reconnection: true });
    const s1 = await p.submitOk({ client_submission_id: cid('bc'), data: { plan: [{ progress: 10 }, { pause: true }, { progress: 60 }, { complete: 0.61 }] } });
    const s2 = await p.submitOk({ client_submission_id: cid('bc'), data: { plan: [{ progress: 30 }, { complete: 0.62 }] } });
    await p.waitEvent(s1.submission_id, 'PROGRESS_UPDATE');
    await p.waitEvent(s2.submission_id, 'ENQUEUED');
    const oldBroker = env.broker.pid;
    const redisBefore = redisPids(env.dir);

    await env.broker.kill9();
    await p.rec.waitFor('disconnect', () => true, { what: 'the participant to notice' });
    await env.broker.start();
    await p.connected({ timeout: 15000 });
    await until(() => g.socket.connected, { what: 'the grader to reconnect', timeout: 15000 });

    // The participant asks again for what it missed, with the token it had.
    for (const s of [s1, s2]) {
        const w = await p.watch(s.submission_id, p.lastSeq(s.submission_id));
        assert.equal(w.ok, true, `watch after the restart: ${JSON.stringify(w)}`);
    }
    g.resume(s1.submission_id);
    const s3 = await p.submitRetrying({ client_submission_id: cid('bc'), data: { plan: [{ complete: 0.63 }] } });
    const want = [[s1, 0.61], [s2, 0.62], [s3, 0.63]];
    for (const [s, score] of want) {
        const f = await p.waitFinal(s.submission_id, { timeout: 20000 });
        assert.deepEqual([f.type, f.data && f.data.score], ['COMPLETE', score], JSON.stringify(f));
        await assertScoredOnce([g], s.submission_id);
    }
    await p.settle();
    for (const [s] of want) assertStream(p.events(s.submission_id), 1);
    for (const [s, score] of want) {
        const st = await p.status(s.submission_id);
        assert.deepEqual([st.state, st.score], ['COMPLETE', score]);
    }
    const rows = await adminUntil(want.map(([s]) => s.submission_id), 'COMPLETE');
    assert.deepEqual(rows.map((r) => r.score).sort(), [0.61, 0.62, 0.63]);

    // One redis-server serves the data directory, the new broker's: the old one's did not
    // outlive it (two redis-servers on one append-only file would be a corruption waiting).
    const redisAfter = redisPids(env.dir);
    const orphans = redisAfter.filter((pid) => parentPid(pid) !== env.broker.pid);
    for (const pid of orphans) process.kill(pid, 'SIGKILL');
    assert.deepEqual(orphans, [], `redis-server ${redisBefore} of broker ${oldBroker} outlived it (kill -9); after the restart: ${redisAfter}`);
    assert.equal(redisAfter.length, 1);
}));

test('in the end: every acked submission is final, each graded one scored exactly once', () => env.explain(async () => {
    const rows = await env.assertAllFinal();
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.state === 'COMPLETE'), JSON.stringify(rows.map((r) => [r.id, r.state])));
}));
