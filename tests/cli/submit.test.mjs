// crowdai submit, status, leaderboard and cancel against the real broker: the --json lines
// field by field, idempotent resubmission, and every exit status (graded, failed, refused,
// connection refused, local file, usage).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, assertEventShape, createEnv, until } from '../e2e/harness.mjs';
import { CliUser, EXIT, closedPort, eventsOf, sha256 } from './cli.mjs';

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
            for (const name of ['alice', 'bob', 'carol']) who[name] = await e.addParticipant(name);
            for (const ch of ['graded', 'failing', 'queue', 'board']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
            await e.admin('challenge', 'create', 'typed', '--title', 'Zip files only', '--pool', 'typed-pool',
                '--primary', 'score:desc', '--types', '.zip');
            await e.addRound('typed', 1);
            await e.createChallenge('limited', { pool: 'limited-pool' });
            await e.addRound('limited', 1, { limit: 1, period: 'day' });
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    for (const u of users) u.cleanup();
    if (env) await env.cleanup();
});

/** --broker and --api-key of a participant. */
function creds(p) {
    return ['--broker', env.url, '--api-key', p.apiKey];
}

test('submit --wait --json: upload, submitted, every event in order, then the score and rank', () => env.explain(async () => {
    await env.grader({
        pools: ['graded-pool'],
        name: 'graded',
        plan: [{ progress: 25, message: 'a quarter' }, { info: 'halfway there' }, { progress: 75, message: 'three quarters' },
            { complete: 0.875 }],
    });
    const alice = user('alice');
    const file = alice.predictions();
    const bytes = fs.readFileSync(file.path);
    const r = (await alice.run(['submit', file.path, '--challenge', 'graded', '--wait', '--json', ...creds(who.alice)]))
        .exits(EXIT.OK);
    const lines = r.lines;
    assert.deepEqual(lines.map((l) => l.kind).filter((k, i, a) => k !== 'event' || a[i - 1] !== 'event'),
        ['upload', 'submitted', 'event', 'summary'], r.toString());

    const up = r.one('upload');
    assert.equal(up.file, file.path);
    assert.equal(up.size, bytes.length);
    assert.equal(up.sha256, sha256(bytes));
    assert.equal(up.file_key, sha256(bytes));

    const sub = r.one('submitted');
    assert.equal(typeof sub.submission_id, 'number');
    assert.equal(sub.state, 'QUEUED');
    assert.equal(sub.existing, false);
    assert.equal(sub.round, 1);
    assert.equal(sub.challenge_id, 'graded');
    assert.match(sub.client_submission_id, /^cli-[0-9a-f]{64}$/);
    assert.equal(sub.watch, `crowdai watch ${sub.submission_id}`);

    const events = eventsOf(lines);
    events.forEach(assertEventShape);
    assert.deepEqual(events.map((e) => e.type),
        ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'PROGRESS_UPDATE', 'COMPLETE'], r.toString());
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    assert.ok(events.every((e) => e.submission_id === sub.submission_id));
    assert.deepEqual(events.filter((e) => e.type === 'PROGRESS_UPDATE').map((e) => [e.percent, e.message]),
        [[25, 'a quarter'], [75, 'three quarters']]);
    assert.equal(events[3].message, 'halfway there');
    assert.equal(events[5].data.score, 0.875);

    const summary = r.one('summary');
    assert.equal(summary.submission_id, sub.submission_id);
    assert.equal(summary.state, 'COMPLETE');
    assert.equal(summary.score, 0.875);
    assert.equal(summary.rank, 1);
    assert.equal(summary.rank_submission_id, sub.submission_id);
    assert.equal(summary.leaderboard_rows, 1);
    assert.equal(summary.last_seq, 6);
    assert.equal(summary.exit_status, 0);
    assert.equal(lines[lines.length - 1].kind, 'summary', 'the summary comes last');

    // The broker's registry agrees.
    const row = (await env.adminSubmissions()).find((s) => s.id === sub.submission_id);
    assert.equal(row.state, 'COMPLETE');
    assert.equal(row.score, 0.875);
    assert.equal(row.client_submission_id, sub.client_submission_id);

    // The same file again: the same submission, not a second one.
    const again = (await alice.run(['submit', file.path, '--challenge', 'graded', '--json', ...creds(who.alice)])).exits(EXIT.OK);
    const sub2 = again.one('submitted');
    assert.equal(sub2.submission_id, sub.submission_id);
    assert.equal(sub2.existing, true);
    assert.equal(sub2.client_submission_id, sub.client_submission_id);
    assert.equal(again.kind('event').length, 0, 'without --wait no events are printed');
    const mine = (await env.adminSubmissions()).filter((s) => s.client_submission_id === sub.client_submission_id);
    assert.equal(mine.length, 1);

    // Not on a terminal, --json is the default.
    const plain = (await alice.run(['status', String(sub.submission_id), ...creds(who.alice)])).exits(EXIT.OK);
    assert.equal(plain.one('status').state, 'COMPLETE');
}));

test('a grading that fails ends with exit status 1 and the grader\'s reason', () => env.explain(async () => {
    await env.grader({ pools: ['failing-pool'], name: 'failing', plan: [{ progress: 5 }, { fail: 'the CSV has 3 columns, expected 2', retryable: false }] });
    const alice = user('alice');
    const r = (await alice.run(['submit', alice.predictions().path, '--challenge', 'failing', '--wait', '--json', ...creds(who.alice)]))
        .exits(EXIT.FAILED);
    const events = eventsOf(r.lines);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.equal(events[events.length - 1].type, 'ERROR');
    const summary = r.one('summary');
    assert.equal(summary.state, 'ERROR');
    assert.match(summary.message, /expected 2/);
    assert.equal(summary.exit_status, 1);
    assert.equal(summary.score, undefined);
}));

test('submit, then status, leaderboard and cancel of the submission', () => env.explain(async () => {
    const g = await env.grader({ pools: ['queue-pool'], name: 'queue', plan: [{ progress: 10, message: 'started' }, { pause: 'hold' }, { complete: 0.5 }] });
    const carol = user('carol');
    const r = (await carol.run(['submit', carol.predictions().path, '--challenge', 'queue', '--description', 'first try', ...creds(who.carol)]))
        .exits(EXIT.OK);
    const id = r.one('submitted').submission_id;
    assert.equal(r.kind('summary').length, 0);
    await g.waitJob(id);

    // status knows the challenge from the record of submissions made from this home.
    const st = await until(async () => {
        const s = (await carol.run(['status', String(id), ...creds(who.carol)])).exits(EXIT.OK).one('status');
        return s.state === 'RUNNING' ? s : undefined;
    }, { what: 'status RUNNING' });
    assert.equal(st.submission_id, id);
    assert.equal(st.challenge_id, 'queue');
    assert.equal(st.round, 1);
    assert.equal(st.score, null);

    const c = (await carol.run(['cancel', String(id), ...creds(who.carol)])).exits(EXIT.OK).one('cancel');
    assert.deepEqual(c, { kind: 'cancel', submission_id: id, state: 'CANCELLED', already: false });
    const told = await g.rec.waitFor('cancel', (m) => m.submission_id === id, { what: 'the grader told to cancel' });
    assert.equal(told.submission_id, id);
    const gone = (await carol.run(['status', String(id), ...creds(who.carol)])).exits(EXIT.FAILED).one('status');
    assert.equal(gone.state, 'CANCELLED');
    const twice = (await carol.run(['cancel', String(id), ...creds(who.carol)])).exits(EXIT.OK).one('cancel');
    assert.equal(twice.already, true);

    // Someone else's submission does not exist for bob; and bob's home has no record of it.
    const bob = user('bob');
    (await bob.run(['status', String(id), ...creds(who.bob)])).exits(EXIT.USAGE);
    const other = (await bob.run(['status', String(id), '--challenge', 'queue', ...creds(who.bob)])).exits(EXIT.REFUSED);
    assert.equal(other.one('error').code, 'NOT_FOUND');
    assert.match(other.stderr, /no submission with that id/i);
}));

test('leaderboard, and status with the rank, after a graded submission; cancel of a graded one is refused', () => env.explain(async () => {
    await env.grader({ pools: ['board-pool'], name: 'board', plan: (job) => [{ complete: job.participant_id === who.bob.id ? 0.25 : 0.75 }] });
    const ids = {};
    for (const name of ['bob', 'carol']) {
        const u = user(name);
        const r = (await u.run(['submit', u.predictions().path, '--challenge', 'board', '--wait', ...creds(who[name])])).exits(EXIT.OK);
        ids[name] = { user: u, id: r.one('summary').submission_id, rank: r.one('summary').rank };
    }
    assert.equal(ids.bob.rank, 1, 'bob was first on the leaderboard');
    assert.equal(ids.carol.rank, 1, 'carol, with the better score, took the lead');

    const board = (await ids.bob.user.run(['leaderboard', 'board', '--broker', env.url])).exits(EXIT.OK).one('leaderboard');
    assert.equal(board.challenge_id, 'board');
    assert.deepEqual(board.rows.map((row) => [row.rank, row.participant, row.submission_id, row.score]),
        [[1, 'carol', ids.carol.id, 0.75], [2, 'bob', ids.bob.id, 0.25]]);
    const round = (await ids.bob.user.run(['leaderboard', 'board', '--round', '1', '--broker', env.url])).exits(EXIT.OK).one('leaderboard');
    assert.equal(round.round, 1);
    assert.equal(round.rows.length, 2);
    const none = (await ids.bob.user.run(['leaderboard', 'board', '--round', '7', '--broker', env.url])).exits(EXIT.OK).one('leaderboard');
    assert.deepEqual(none.rows, []);

    const st = (await ids.bob.user.run(['status', String(ids.bob.id), ...creds(who.bob)])).exits(EXIT.OK).one('status');
    assert.deepEqual([st.state, st.score, st.rank], ['COMPLETE', 0.25, 2]);

    const refused = (await ids.bob.user.run(['cancel', String(ids.bob.id), ...creds(who.bob)])).exits(EXIT.REFUSED);
    const err = refused.one('error');
    assert.equal(err.code, 'ALREADY_FINISHED');
    assert.equal(err.state, 'COMPLETE');
    assert.match(refused.stderr, /already finished \(COMPLETE\)/);
}));

test('refused: the submission limit with its reset time, a bad API key, an unknown challenge', () => env.explain(async () => {
    await env.grader({ pools: ['limited-pool'], name: 'limited', plan: [{ complete: 0.5 }] });
    const alice = user('alice');
    (await alice.run(['submit', alice.predictions().path, '--challenge', 'limited', '--wait', ...creds(who.alice)])).exits(EXIT.OK);
    const r = (await alice.run(['submit', alice.predictions().path, '--challenge', 'limited', '--wait', ...creds(who.alice)]))
        .exits(EXIT.REFUSED);
    const err = r.one('error');
    assert.equal(err.code, 'LIMIT_REACHED');
    assert.equal(err.exit_status, 2);
    assert.equal(err.submissions_remaining, 0);
    assert.ok(typeof err.message === 'string' && err.message.length > 10, JSON.stringify(err));
    const reset = Date.parse(err.reset_at);
    assert.ok(reset > Date.now(), `reset_at in the future: ${err.reset_at}`);
    assert.equal(r.kind('submitted').length, 0);
    // In words on stderr: the broker's message, and the reset time (TZ=UTC here).
    assert.ok(r.stderr.includes(err.message), r.stderr);
    const when = new Date(reset).toISOString();
    assert.ok(r.stderr.includes(`You can submit again after ${when.slice(0, 10)} ${when.slice(11, 19)} UTC`), r.stderr);

    const bad = (await alice.run(['submit', alice.predictions().path, '--challenge', 'limited', '--broker', env.url, '--api-key', 'not-a-key']))
        .exits(EXIT.REFUSED);
    assert.equal(bad.one('error').code, 'BAD_API_KEY');
    assert.match(bad.stderr, /crowdai login/);
    assert.equal(bad.kind('upload').length, 0, 'nothing uploaded with a bad key');

    const unknown = (await alice.run(['submit', alice.predictions().path, '--challenge', 'no-such', ...creds(who.alice)])).exits(EXIT.REFUSED);
    assert.equal(unknown.one('error').code, 'UNKNOWN_CHALLENGE');

    // The upload itself refused: a file type the challenge does not take.
    const typed = (await alice.run(['submit', alice.predictions().path, '--challenge', 'typed', ...creds(who.alice)])).exits(EXIT.REFUSED);
    assert.equal(typed.one('error').code, 'WRONG_FILE_TYPE');
    assert.deepEqual(typed.lines.map((l) => l.kind), ['error']);
    assert.match(typed.stderr, /The upload was refused|\.zip/);
}));

test('connection refused: exit status 3 with the reason, for every command', async () => {
    const port = await closedPort();
    const alice = user('alice');
    const file = alice.predictions().path;
    const runs = [
        ['submit', file, '--challenge', 'graded', '--wait'],
        ['watch', '1', '--challenge', 'graded'],
        ['status', '1', '--challenge', 'graded'],
        ['cancel', '1', '--challenge', 'graded'],
        ['leaderboard', 'graded'],
        ['login', '--challenge', 'graded'],
    ];
    for (const args of runs) {
        const r = (await alice.run([...args, '--broker', `http://127.0.0.1:${port}`, '--api-key', 'k'])).exits(EXIT.CONNECTION);
        assert.match(r.one('error').message, new RegExp(`Could not connect to the broker at http://127\\.0\\.0\\.1:${port}.*refused`), r.toString());
        assert.match(r.stderr, /Could not connect/);
    }
    assert.equal(fs.existsSync(`${alice.home}/.config/crowdai/config`), false, 'login stored nothing');
});

test('usage errors exit 64, an unreadable file 4, and every command has --help', async () => {
    const alice = user('alice');
    const file = alice.predictions().path;
    const usage = [
        [],
        ['frobnicate'],
        ['submit'],
        ['submit', file],
        ['submit', file, '--challenge'],
        ['submit', file, '--challenge', 'graded', '--round', '0'],
        ['submit', file, '--challenge', 'graded', '--wiat'],
        ['submit', file, 'extra', '--challenge', 'graded'],
        ['watch'],
        ['watch', 'twelve'],
        ['status', '-5'],
        ['cancel'],
        ['leaderboard'],
        ['leaderboard', 'graded', '--round', 'x'],
        ['login', 'extra'],
        ['submit', file, '--challenge', 'graded', '--description', 'x'.repeat(501)],
    ];
    for (const args of usage) {
        const r = (await alice.run([...args, '--broker', env.url, '--api-key', who.alice.apiKey])).exits(EXIT.USAGE);
        assert.match(r.stderr, /crowdai/, r.toString());
        assert.equal(r.stdout.includes('"kind":"submitted"'), false);
    }
    // No broker or no key configured anywhere: a usage error that says how to set them.
    const nobroker = (await alice.run(['leaderboard', 'graded'])).exits(EXIT.USAGE);
    assert.match(nobroker.stderr, /crowdai login/);
    const nokey = (await alice.run(['status', '1', '--challenge', 'graded', '--broker', env.url])).exits(EXIT.USAGE);
    assert.match(nokey.stderr, /API key/);

    const missing = (await alice.run(['submit', `${alice.home}/nope.csv`, '--challenge', 'graded', ...creds(who.alice)])).exits(EXIT.LOCAL);
    assert.match(missing.stderr, /Cannot read .*nope\.csv/);

    for (const cmd of ['login', 'submit', 'watch', 'status', 'cancel', 'leaderboard']) {
        const r = (await alice.run([cmd, '--help'])).exits(EXIT.OK);
        assert.match(r.stdout, new RegExp(`^Usage: crowdai ${cmd}`), r.toString());
        assert.match(r.stdout, /Exit status/);
        const h = (await alice.run(['help', cmd])).exits(EXIT.OK);
        assert.equal(h.stdout, r.stdout);
    }
    const top = (await alice.run(['--help'])).exits(EXIT.OK);
    for (const cmd of ['login', 'submit', 'watch', 'status', 'cancel', 'leaderboard']) assert.match(top.stdout, new RegExp(`\\n  ${cmd}\\b`));
});
