// crowdai-grader grading for real: the example Python evaluator scoring an uploaded CSV through
// the real broker and Redis, and evaluators that fail in every way an evaluator can, each
// reaching the participant as ERROR with its own message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { assertStream, cid, createEnv, until } from '../e2e/harness.mjs';
import { EVALUATORS, EXAMPLES, GRADER_BIN, GraderRunner, metric, removeScratch, scratch, upload } from './runner.mjs';

let env;
const who = {};
const runners = [];

before(async () => {
    env = await createEnv({
        seed: async (e) => {
            who.ann = await e.addParticipant('ann');
            who.bob = await e.addParticipant('bob');
            await e.admin('challenge', 'create', 'f1', '--title', 'F1', '--pool', 'f1-pool',
                '--primary', 'macro_f1:desc', '--secondary', 'accuracy:desc', '--types', '.csv');
            await e.addRound('f1', 1);
            await e.createChallenge('faults', { pool: 'faults-pool' });
            await e.addRound('faults', 1);
            await e.admin('challenge', 'create', 'files', '--title', 'Files', '--pool', 'files-pool',
                '--primary', 'score:desc', '--types', '.csv', '--max-attempts', '1');
            await e.addRound('files', 1);
        },
    });
});

afterEach(async () => {
    await env.closeClients();
    for (const r of runners.splice(0)) await r.stop();
});
after(() => env && env.cleanup());

async function runner(opts) {
    const r = new GraderRunner(env, opts);
    runners.push(r);
    return r.start();
}

test('the example Python evaluator grades an uploaded CSV: exact score, live progress, leaderboard', () => env.explain(async () => {
    const r = await runner({
        name: 'f1-runner', pools: ['f1-pool'],
        args: ['--answer', path.join(EXAMPLES, 'data/f1_answers.csv'), '--submission-name', 'predictions.csv',
            '--progress-interval', '0'],
        command: ['python3', path.join(EXAMPLES, 'evaluate_f1.py'), '{submission}', '{answer}'],
    });
    const p = await env.participant(who.ann, 'f1');
    const key = await upload(env, p, 'predictions.csv', fs.readFileSync(path.join(EXAMPLES, 'data/f1_predictions.csv')));
    const sub = await p.submitOk({ client_submission_id: cid('f1'), file_key: key });
    const final = await p.waitFinal(sub.submission_id);
    // Macro F1 = (2/3 + 4/7) / 2 = 13/21, accuracy 5/8 (worked out in docs/evaluator.md).
    assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
    assert.deepEqual(final.data, { score: 0.6190476190476191, score_secondary: 0.625 });
    await p.settle();
    const events = p.events(sub.submission_id);
    assertStream(events);
    const types = events.map((e) => e.type);
    assert.deepEqual([types[0], types[types.length - 1]], ['ENQUEUED', 'COMPLETE']);
    assert.ok(events.some((e) => e.type === 'INFO' && e.message === 'read 8 predictions for 8 answers'), JSON.stringify(events));
    const progress = events.filter((e) => e.type === 'PROGRESS_UPDATE').map((e) => [e.percent, e.message]);
    // The first goes at once; later ones may be coalesced while one is in flight (the latest
    // wins), so they only grow, and the last one arrives.
    assert.deepEqual(progress[0], [0, 'reading the files'], JSON.stringify(progress));
    assert.deepEqual(progress[progress.length - 1], [100, 'done']);
    assert.deepEqual(progress.map(([pc]) => pc), progress.map(([pc]) => pc).sort((a, b) => a - b));

    const board = await env.adminLeaderboard('f1');
    assert.deepEqual(board.map((row) => [row.submission_id, row.score, row.score_secondary]),
        [[sub.submission_id, 0.6190476190476191, 0.625]]);
    assert.equal(r.logs(new RegExp(`^reported sub=${sub.submission_id} event=complete`)).length, 1);
    assert.deepEqual(r.jobDirs(), [], 'the job directory is removed');
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);

    // A bad submission: the evaluator's own words reach the participant.
    const bad = await upload(env, p, 'missing.csv', fs.readFileSync(path.join(EXAMPLES, 'data/f1_predictions_missing.csv')));
    const s2 = await p.submitOk({ client_submission_id: cid('f1'), file_key: bad });
    const f2 = await p.waitFinal(s2.submission_id);
    assert.equal(f2.type, 'ERROR');
    assert.equal(f2.message, 'the evaluator failed with exit status 1; the last lines on stderr:\n' +
        'error: the predictions lack 1 id(s), the first being 4');
    await until(() => r.jobDirs().length === 0, { what: 'the second job directory to go' });
}));

test('evaluators that crash, hang, run out of memory, flood or print garbage: ERROR with the reason', () => env.explain(async () => {
    await runner({
        name: 'faults-runner', pools: ['faults-pool'], capacity: 2,
        args: ['--wall-time', '2s', '--memory', '256M', '--output', '1M', '--kill-grace', '500'],
        command: [path.join(EVALUATORS, 'by_mode.sh')],
    });
    const p = await env.participant(who.bob, 'faults');
    const want = {
        crash: /^the evaluator crashed: killed by signal SIGSEGV \(segmentation fault: an invalid memory access\); the last lines on stderr:\nabout to crash$/,
        hang: /^the evaluator ran longer than its time limit of 2 s and was stopped/,
        memory: /^memory limit of 256 MiB reached: the evaluator ran out of memory.*MemoryError/s,
        flood: /^output flood: the evaluator wrote more than 1 MiB on stdout and stderr and was stopped/,
        garbage: /^the evaluator exited without a result, and 3 lines of its output were not understood \(the first: "hello world"\)/,
    };
    const subs = {};
    for (const mode of Object.keys(want))
        subs[mode] = (await p.submitOk({ client_submission_id: cid(mode), data: { mode } })).submission_id;
    for (const [mode, re] of Object.entries(want)) {
        const f = await p.waitFinal(subs[mode], { timeout: 30000 });
        assert.equal(f.type, 'ERROR', `${mode}: ${JSON.stringify(f)}`);
        assert.match(f.message, re, mode);
    }
    await p.settle();
    for (const id of Object.values(subs)) assertStream(p.events(id));
    const rows = (await env.adminSubmissions()).filter((s) => Object.values(subs).includes(s.id));
    assert.deepEqual(rows.map((s) => s.state), rows.map(() => 'ERROR'));
    assert.equal(await metric(env, 'crowdai_grader_reports_stale_total'), 0);
}));

test('downloads: a file over --max-download, a file missing on the broker: ERROR with the reason', () => env.explain(async () => {
    const p = await env.participant(who.ann, 'files');
    const body = fs.readFileSync(path.join(EXAMPLES, 'data/f1_predictions.csv'));
    const big = await upload(env, p, 'big.csv', body);
    const gone = await upload(env, p, 'gone.csv', Buffer.concat([body, Buffer.from('9,1\n')]));
    const sBig = (await p.submitOk({ client_submission_id: cid('dl'), file_key: big })).submission_id;
    const sGone = (await p.submitOk({ client_submission_id: cid('dl'), file_key: gone })).submission_id;
    fs.rmSync(path.join(env.dir, 'blobs', gone.slice(0, 2), gone));
    const r = await runner({
        name: 'files-runner', pools: ['files-pool'], args: ['--max-download', String(body.length - 1)],
        command: [path.join(EVALUATORS, 'by_mode.sh')],
    });
    const fBig = await p.waitFinal(sBig);
    assert.deepEqual([fBig.type, fBig.message],
        ['ERROR', `the submission file is larger than this grader accepts (${body.length - 1} bytes)`]);
    const fGone = await p.waitFinal(sGone);
    assert.deepEqual([fGone.type, fGone.message],
        ['ERROR', 'the grader could not download the submission file: the broker answered HTTP 404']);
    assert.equal(fGone.data.reason, `failed on every attempt: ${fGone.message}`, 'retryable: the platform\'s fault');
    assert.deepEqual(r.logs(/^evaluator started /), [], 'no evaluator ran');
    await until(() => r.jobDirs().length === 0, { what: 'the job directories to go' });
}));

test('a key the broker refuses: the runner says so and exits 1', async () => {
    const r = new GraderRunner(env, { name: 'bad-key', pools: ['faults-pool'], key: 'not-a-grader-key', command: ['true'] });
    runners.push(r);
    await r.start({ connected: false });
    const { code } = await r.waitExit();
    assert.equal(code, 1);
    assert.equal(r.logs(/^the broker refused this grader: "Invalid grader key"/).length, 1);
    assert.ok(!r.stderr.includes('not-a-grader-key'), 'the key is never logged');
});

test('the command line: --help, errors in plain words, the configuration file and its precedence', async () => {
    const run = (args, extraEnv = {}) => spawnSync(GRADER_BIN, args, { encoding: 'utf8', env: { ...process.env, ...extraEnv } });
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--shutdown-grace TIME/);
    const noKey = run(['--broker', 'ws://127.0.0.1:9', '--pool', 'p', '--', 'true'], { CROWDAI_GRADER_KEY: '' });
    assert.deepEqual([noKey.status, noKey.stderr], [2, 'error: no grader key: set CROWDAI_GRADER_KEY, or key in the file\n']);
    const badTime = run(['--wall-time', '10 minutes']);
    assert.equal(badTime.status, 2);
    assert.match(badTime.stderr, /^error: wall-time needs a whole number from 0 to \d+ \(ms; or with s, m, h\), not "10 minutes"/);
    const dir = scratch('cfg');
    try {
        // A file with a bad setting names the line.
        fs.writeFileSync(path.join(dir, 'bad.conf'), 'broker = ws://127.0.0.1:9\ncapacity = 0\n');
        const bad = run(['--config', path.join(dir, 'bad.conf')]);
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /bad\.conf:2: bad setting capacity/);
        // A good file; the broker is unreachable, so the runner keeps trying until SIGTERM. Its
        // first log line shows what it took: the file's settings, the flag's name.
        fs.writeFileSync(path.join(dir, 'good.conf'), '# a grader\nbroker = ws://127.0.0.1:9\npool = a, b\n' +
            `capacity = 3\nname = from-file\nworkdir = ${dir}/work\ncommand = ["true", "{submission}"]\n`);
        const r = new GraderRunner(env, { name: 'unused', pools: [], command: [] });
        r.argv = ['--config', path.join(dir, 'good.conf'), '--name', 'from-flag'];
        runners.push(r);
        await r.start({ connected: false });
        await r.waitLog(new RegExp(`^starting name=from-flag broker=http://127\\.0\\.0\\.1:9 capacity=3 workdir=${dir}/work$`));
        await r.waitLog(/^cannot reach the broker/);
        r.signal('SIGTERM');
        assert.deepEqual(await r.waitExit(), { code: 0, signal: null });
        assert.ok(fs.statSync(path.join(dir, 'work')).isDirectory(), 'the work directory was made');
    } finally {
        removeScratch(dir);
    }
});
