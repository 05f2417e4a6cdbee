// crowdai-grader's life around its jobs: a cancel from the participant kills the evaluator's
// whole process group; a broker killed with -9 and restarted mid-job loses no result and
// applies none twice; two runners share a pool without exceeding their capacity; SIGTERM lets
// the running job finish (or hands it back after the grace period) and exits 0.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { alive, assertStream, cid, createEnv, until } from '../e2e/harness.mjs';
import { EVALUATORS, Gates, GraderRunner, allGone, evaluatorPids, metric } from './runner.mjs';

// A lease far longer than any wait here: a job is requeued only if the runner stopped renewing
// it (its heartbeat is 1 s), never because the machine is slow.
const TIMINGS = ['--lease', '30000', '--janitor', '200', '--retry-base', '100', '--retry-cap', '400'];
const GATED = ['python3', path.join(EVALUATORS, 'gated.py')];

let env;
let gates;
const who = {};
const runners = [];

before(async () => {
    gates = new Gates();
    env = await createEnv({
        brokerArgs: TIMINGS,
        seed: async (e) => {
            who.ann = await e.addParticipant('ann');
            for (const ch of ['cancel', 'restart', 'twins', 'term'])
                await e.createChallenge(ch, { pool: `${ch}-pool` });
            for (const ch of ['cancel', 'restart', 'twins', 'term']) await e.addRound(ch, 1);
        },
    });
});

afterEach(async () => {
    await env.closeClients();
    for (const r of runners.splice(0)) await r.stop();
});
after(async () => {
    if (gates) gates.remove();
    if (env) await env.cleanup();
});

async function runner(name, pool, { capacity = 1, args = [] } = {}) {
    const r = new GraderRunner(env, {
        name, pools: [pool], capacity, command: GATED,
        args: ['--env', `GATE_DIR=${gates.dir}`, '--env', `RUNNER_TAG=${name}`, ...args],
    });
    runners.push(r);
    return r.start();
}

/** The process group of `pid`. */
function pgidOf(pid) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Pids of the live processes whose process group is `pgid`. */
function groupMembers(pgid) {
    const found = [];
    for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
            const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (Number(fields[2]) === pgid && fields[0] !== 'Z') found.push(Number(name));
        } catch {
            // gone meanwhile
        }
    }
    return found;
}

const completes = (p, id) => p.events(id).filter((e) => e.type === 'COMPLETE');

test('cancel of a running job kills the evaluator and everything in its process group', () => env.explain(async () => {
    const r = await runner('canceller', 'cancel-pool');
    const p = await env.participant(who.ann, 'cancel');
    const s = (await p.submitOk({ client_submission_id: cid('cancel'), data: { gate: 'never' } })).submission_id;
    const [pid, child] = await evaluatorPids(p, s);
    const group = pgidOf(pid);
    assert.notEqual(group, pgidOf(r.pid), 'the evaluator has a process group of its own');
    assert.equal(pgidOf(child), group, 'its child is in it');

    const ack = await p.cancel(s);
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal((await p.waitFinal(s)).type, 'CANCELLED');
    await allGone([pid, child]);
    assert.deepEqual(groupMembers(group), [], 'nothing is left in its process group');
    await r.waitLog(new RegExp(`^evaluator ended sub=${s} outcome=CANCELLED`));
    await until(() => r.jobDirs().length === 0, { what: 'the job directory to go' });
    // Nothing was reported after the cancel: no stale report reached the broker.
    assert.deepEqual(r.logs(new RegExp(`^(reported|failure) sub=${s}`)), []);
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);
}));

test('kill -9 of the broker mid-job: the jobs keep running, each result arrives exactly once', () => env.explain(async () => {
    const r = await runner('survivor', 'restart-pool', { capacity: 2 });
    const p = await env.participant(who.ann, 'restart', { reconnection: true });
    const a = (await p.submitOk({ client_submission_id: cid('rs'), data: { gate: 'during', score: 0.41 } })).submission_id;
    const b = (await p.submitOk({ client_submission_id: cid('rs'), data: { gate: 'after', score: 0.42 } })).submission_id;
    const [pidA] = await evaluatorPids(p, a);
    const [pidB] = await evaluatorPids(p, b);

    await env.broker.kill9();
    await r.waitLog(/^disconnected from the broker/);
    // A finishes while the broker is down: its result waits in the runner.
    gates.open('during');
    await r.waitLog(new RegExp(`^result sub=${a} score=0.41`));
    await allGone([pidA]);
    await env.broker.start();
    // Joined again declaring what is free: B still holds one of the two slots.
    await r.waitLog(/^connected to the broker .* capacity=1 jobs=1$/, { timeout: 20000 });
    await r.waitLog(new RegExp(`^reported sub=${a} event=complete`));
    // B kept running through the restart, and now finishes.
    assert.ok(alive(pidB), 'the evaluator of B survived the broker restart');
    gates.open('after');
    await r.waitLog(new RegExp(`^reported sub=${b} event=complete`));
    // Idle, it joins once more with its whole capacity.
    await r.waitLog(/^connected to the broker .* capacity=2 jobs=0$/, { count: 2 });

    await p.connected({ timeout: 15000 });
    for (const s of [a, b]) {
        const w = await p.watch(s, p.lastSeq(s));
        assert.equal(w.ok, true, JSON.stringify(w));
    }
    for (const [s, score] of [[a, 0.41], [b, 0.42]]) {
        const f = await p.waitFinal(s);
        assert.deepEqual([f.type, f.data.score], ['COMPLETE', score]);
    }
    await p.settle();
    for (const s of [a, b]) {
        assertStream(p.events(s));
        assert.equal(completes(p, s).length, 1, `one COMPLETE for ${s}`);
        assert.equal(r.logs(new RegExp(`^job received sub=${s} `)).length, 1, 'never dispatched again');
        assert.equal(r.logs(new RegExp(`^reported sub=${s} event=complete`)).length, 1);
    }
    const rows = (await env.adminSubmissions()).filter((row) => row.id === a || row.id === b);
    assert.deepEqual(rows.map((row) => [row.id, row.state, row.score]).sort(),
        [[a, 'COMPLETE', 0.41], [b, 'COMPLETE', 0.42]]);
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);
}));

test('after a restart with every slot busy, a job sent beyond the capacity waits for a slot', () => env.explain(async () => {
    const r = await runner('busy', 'restart-pool');
    const p = await env.participant(who.ann, 'restart', { reconnection: true });
    const x = (await p.submitOk({ client_submission_id: cid('busy'), data: { gate: 'busy-x', score: 0.51 } })).submission_id;
    const [pidX] = await evaluatorPids(p, x);
    await env.broker.kill9();
    await env.broker.start();
    await r.waitLog(/^connected to the broker .* capacity=1 jobs=1$/, { timeout: 20000 });
    await p.connected({ timeout: 15000 });
    // The restarted broker does not know x and the runner may not declare 0: y comes, and waits.
    const y = (await p.submitRetrying({ client_submission_id: cid('busy'), data: { gate: 'busy-y', score: 0.52 } })).submission_id;
    await r.waitLog(new RegExp(`^job waits for a free slot sub=${y}$`));
    assert.ok(alive(pidX));
    assert.deepEqual(r.logs(new RegExp(`^evaluator started sub=${y} `)), []);
    gates.open('busy-x');
    gates.open('busy-y');
    await r.waitLog(new RegExp(`^reported sub=${y} event=complete`));
    await r.waitLog(new RegExp(`^reported sub=${x} event=complete`));
    assert.equal(peakConcurrency(r), 1, 'never two evaluators at once');
    for (const s of [x, y]) {
        const w = await p.watch(s, p.lastSeq(s));
        assert.equal(w.ok, true, JSON.stringify(w));
    }
    for (const [s, score] of [[x, 0.51], [y, 0.52]]) assert.deepEqual([(await p.waitFinal(s)).data.score], [score]);
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);
}));

/** The most evaluators a runner had running at once, from its own log's order. */
function peakConcurrency(r) {
    let now = 0;
    let peak = 0;
    for (const l of r.rec.list('log', (x) => x.module === 'grader')) {
        if (/^evaluator started /.test(l.text)) peak = Math.max(peak, ++now);
        if (/^evaluator ended /.test(l.text)) now--;
    }
    return peak;
}

test('two runners of capacity 2 share a pool: 2 evaluators each at most, every job graded once', () => env.explain(async () => {
    const r1 = await runner('twin-1', 'twins-pool', { capacity: 2 });
    const r2 = await runner('twin-2', 'twins-pool', { capacity: 2 });
    const p = await env.participant(who.ann, 'twins');
    const subs = [];
    for (let i = 0; i < 8; i++)
        subs.push((await p.submitOk({ client_submission_id: cid('twin'), data: { gate: `twin-${i}`, score: i / 10 } })).submission_id);

    // Four start (two per runner) and stay at their gates; the other four stay queued.
    const started = () => p.rec.list('event', (e) => e.type === 'INFO' && /^pids /.test(e.message));
    await until(() => started().length === 4, { what: 'four evaluators to start' });
    await p.settle();
    const tags = started().map((e) => e.message.match(/tag=(\S+)/)[1]).sort();
    assert.deepEqual(tags, ['twin-1', 'twin-1', 'twin-2', 'twin-2']);
    const waiting = subs.filter((s) => !started().some((e) => e.submission_id === s));
    for (const s of waiting) assert.equal((await p.status(s)).state, 'QUEUED', `submission ${s}`);

    for (let i = 0; i < 8; i++) gates.open(`twin-${i}`);
    for (let i = 0; i < 8; i++) {
        const f = await p.waitFinal(subs[i], { timeout: 20000 });
        assert.deepEqual([f.type, f.data.score], ['COMPLETE', i / 10]);
    }
    await p.settle();
    for (const s of subs) assert.equal(completes(p, s).length, 1);
    const received = [r1, r2].map((r) => r.logs(/^job received /).length);
    assert.equal(received[0] + received[1], 8, `jobs per runner: ${received}`);
    assert.deepEqual([peakConcurrency(r1), peakConcurrency(r2)], [2, 2]);
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);
}));

test('SIGTERM: the running job finishes and is reported, the queued one is not taken, exit 0', () => env.explain(async () => {
    const r = await runner('terminated', 'term-pool');
    const p = await env.participant(who.ann, 'term');
    const s1 = (await p.submitOk({ client_submission_id: cid('term'), data: { gate: 'term-1', score: 0.5 } })).submission_id;
    const [pid] = await evaluatorPids(p, s1);
    const s2 = (await p.submitOk({ client_submission_id: cid('term'), data: { score: 0.6 } })).submission_id;
    r.signal('SIGTERM');
    await r.waitLog(/^shutting down: no new jobs; running=1/);
    assert.ok(alive(pid), 'the running evaluator is left to finish');
    gates.open('term-1');
    const f = await p.waitFinal(s1);
    assert.deepEqual([f.type, f.data.score], ['COMPLETE', 0.5]);
    assert.deepEqual(await r.waitExit(), { code: 0, signal: null });
    assert.deepEqual(r.logs(new RegExp(`^evaluator started sub=${s2} `)), [], 'no new job started');

    // The queued one was handed back without counting an attempt: the next runner gets attempt 1.
    await until(async () => (await p.status(s2)).state === 'QUEUED', { what: `submission ${s2} queued` });
    const next = await runner('next', 'term-pool');
    assert.deepEqual([(await p.waitFinal(s2)).type], ['COMPLETE']);
    assert.equal(next.logs(new RegExp(`^job received sub=${s2} attempt=1 `)).length, 1);
}));

test('SIGTERM past the grace period: the job is stopped, handed back as retryable, graded again', () => env.explain(async () => {
    const r = await runner('impatient', 'term-pool', { args: ['--shutdown-grace', '1s'] });
    const p = await env.participant(who.ann, 'term');
    const s = (await p.submitOk({ client_submission_id: cid('term'), data: { gate: 'term-late', score: 0.7 } })).submission_id;
    const pids = await evaluatorPids(p, s);
    r.signal('SIGTERM');
    const retry = await p.waitEvent(s, (e) => e.type === 'INFO' && /^retrying in /.test(e.message));
    assert.equal(retry.data.reason, 'the grader was stopped before the evaluation ended');
    await allGone(pids);
    assert.deepEqual(await r.waitExit(), { code: 0, signal: null });
    assert.equal(r.logs(new RegExp(`^reported sub=${s} event=fail`)).length, 1);

    gates.open('term-late');
    const next = await runner('successor', 'term-pool');
    const f = await p.waitFinal(s, { timeout: 20000 });
    assert.deepEqual([f.type, f.data.score], ['COMPLETE', 0.7]);
    assert.equal(next.logs(new RegExp(`^job received sub=${s} attempt=2 `)).length, 1);
    await p.settle();
    assertStream(p.events(s));
    assert.equal(completes(p, s).length, 1);
}));
