// Following a grading live: a broker killed (kill -9) and restarted on the same port while
// crowdai watches, with events it missed meanwhile, resumes without a missing or repeated
// seq; Ctrl-C stops watching without cancelling, and `crowdai watch ID` takes it up again.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, assertEventShape, createEnv, until } from '../e2e/harness.mjs';
import { CliUser, EXIT, eventsOf } from './cli.mjs';

let env;
const who = {};
const users = [];

function user(name) {
    const u = new CliUser(name);
    users.push(u);
    return u;
}

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            who.fay = await e.addParticipant('fay');
            for (const ch of ['restart', 'interrupt']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    for (const u of users) u.cleanup();
    if (env) await env.cleanup();
});

function creds() {
    return ['--broker', env.url, '--api-key', who.fay.apiKey];
}

test('a broker restart mid-watch: crowdai reconnects and resumes without a missing or repeated event', () => env.explain(async () => {
    const g = await env.grader({
        pools: ['restart-pool'],
        name: 'restart',
        plan: [{ progress: 10, message: 'ten' }, { pause: 'a' }, { progress: 50, message: 'fifty' }, { info: 'while you were away' },
            { pause: 'b' }, { progress: 90, message: 'ninety' }, { complete: 0.9 }],
    });
    const fay = user('fay');
    const run = fay.start(['submit', fay.predictions().path, '--challenge', 'restart', '--wait', '--json', ...creds()]);
    const ten = await run.waitLine((l) => l.kind === 'event' && l.percent === 10, 'the 10% event');
    const id = ten.submission_id;

    // crowdai is stopped while the broker dies and comes back and the grading goes on, so
    // that it misses events and must ask for them again.
    run.signal('SIGSTOP');
    await env.broker.kill9();
    await env.broker.start();
    await until(() => g.socket.connected, { what: 'the grader to reconnect', timeout: 15000 });
    g.resume(id, 'a');
    const info = await g.waitReport(id, 'info', { timeout: 15000 });
    assert.equal(info.ack.ok, true, JSON.stringify(info));
    run.signal('SIGCONT');

    const resumed = await run.waitLine((l) => l.kind === 'connection' && l.state === 'resumed', 'crowdai to resume');
    assert.equal(resumed.after_seq, ten.seq);
    await run.waitLine((l) => l.kind === 'event' && l.type === 'INFO', 'the missed INFO event');
    g.resume(id, 'b');
    const r = (await run.done()).exits(EXIT.OK);

    const lines = r.lines;
    const lost = lines.findIndex((l) => l.kind === 'connection' && l.state === 'lost');
    const back = lines.findIndex((l) => l.kind === 'connection' && l.state === 'resumed');
    assert.ok(lost >= 0 && back > lost, `lost, then resumed: ${r}`);
    assert.equal(lines[lost].after_seq, ten.seq);
    const events = eventsOf(lines);
    events.forEach(assertEventShape);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), `no gap, no repeat: ${r}`);
    assert.deepEqual(events.map((e) => [e.type, e.type === 'PROGRESS_UPDATE' ? e.percent : null]), [
        ['ENQUEUED', null], ['RUNNING', null], ['PROGRESS_UPDATE', 10], ['PROGRESS_UPDATE', 50], ['INFO', null],
        ['PROGRESS_UPDATE', 90], ['COMPLETE', null]]);
    // The events before the drop came live, the missed ones after it.
    assert.equal(lines.indexOf(lines.find((l) => l.kind === 'event' && l.percent === 50)) > back, true);
    const summary = r.one('summary');
    assert.deepEqual([summary.state, summary.score, summary.rank, summary.last_seq], ['COMPLETE', 0.9, 1, 7]);
}));

test('Ctrl-C stops watching without cancelling; crowdai watch ID takes it up from the start', () => env.explain(async () => {
    const g = await env.grader({
        pools: ['interrupt-pool'],
        name: 'interrupt',
        plan: [{ progress: 30, message: 'thirty' }, { pause: 'go' }, { info: 'almost done' }, { complete: 0.3 }],
    });
    const fay = user('fay');
    const run = fay.start(['submit', fay.predictions().path, '--challenge', 'interrupt', '--wait', '--json', ...creds()]);
    const thirty = await run.waitLine((l) => l.kind === 'event' && l.percent === 30, 'the 30% event');
    const id = thirty.submission_id;
    run.signal('SIGINT');
    const r = (await run.done()).exits(EXIT.INTERRUPTED);
    const summary = r.one('summary');
    assert.deepEqual([summary.submission_id, summary.state, summary.interrupted, summary.last_seq, summary.exit_status],
        [id, 'RUNNING', true, thirty.seq, 130]);
    assert.ok(r.stderr.includes(`crowdai watch ${id}`), r.stderr);
    assert.match(r.stderr, /not cancelled/);

    // Still being graded: no cancel reached the grader, and status says RUNNING.
    const st = (await fay.run(['status', String(id), ...creds()])).exits(EXIT.OK).one('status');
    assert.equal(st.state, 'RUNNING');
    assert.equal(g.rec.list('cancel').length, 0);

    // watch, with the challenge known from this machine's record: every event from seq 1.
    const w = fay.start(['watch', String(id), '--json', ...creds()]);
    const watching = await w.waitLine((l) => l.kind === 'watching', 'the watch answer');
    assert.deepEqual([watching.submission_id, watching.state, watching.round], [id, 'RUNNING', 1]);
    await w.waitLine((l) => l.kind === 'event' && l.seq === thirty.seq, 'the replayed events');
    g.resume(id, 'go');
    const done = (await w.done()).exits(EXIT.OK);
    const events = eventsOf(done.lines);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.deepEqual(events.map((e) => e.type), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'COMPLETE']);
    assert.equal(events[3].message, 'almost done');
    const s = done.one('summary');
    assert.deepEqual([s.state, s.score, s.rank, s.exit_status], ['COMPLETE', 0.3, 1, 0]);

    // Watching it again once it is over replays it all and ends at once.
    const again = (await fay.run(['watch', String(id), ...creds()])).exits(EXIT.OK);
    assert.deepEqual(eventsOf(again.lines).map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.equal(again.one('watching').state, 'COMPLETE');
}));

test('--timeout ends the watch, and a broker gone for longer than --reconnect-timeout ends it with status 3', () => env.explain(async () => {
    const g = await env.grader({ pools: ['restart-pool'], name: 'gone', plan: [{ progress: 20, message: 'twenty' }, { pause: 'never' }] });
    const fay = user('fay');
    const sub = (await fay.run(['submit', fay.predictions().path, '--challenge', 'restart', ...creds()])).exits(EXIT.OK);
    const id = sub.one('submitted').submission_id;
    await g.waitReport(id, 'progress');

    const timed = (await fay.run(['watch', String(id), '--timeout', '1', ...creds()])).exits(EXIT.CONNECTION);
    assert.equal(eventsOf(timed.lines).at(-1).percent, 20, 'it showed what there was');
    assert.match(timed.one('error').message, /after 1 s \(--timeout\)/);
    assert.ok(timed.stderr.includes(`crowdai watch ${id}`), timed.stderr);

    const run = fay.start(['watch', String(id), '--reconnect-timeout', '2', ...creds()]);
    await run.waitLine((l) => l.kind === 'event' && l.percent === 20, 'the 20% event');
    await env.broker.kill9();
    const r = (await run.done()).exits(EXIT.CONNECTION);
    assert.ok(r.kind('connection').some((l) => l.state === 'lost'), r.toString());
    assert.match(r.one('error').message, /could not reconnect within 2 s/);
    assert.ok(r.stderr.includes(`Follow it again with: crowdai watch ${id}`), r.stderr);
    await env.broker.start();
}));
