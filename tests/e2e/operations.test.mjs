// Files and operations end to end: uploads into the blob store and grader downloads, their
// refusals; crowdai-admin cancel, dead-letters and requeue against the broker's Redis;
// /healthz and /metrics; the configuration file.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { BROKER_BIN, Broker, STEADY_TIMINGS, assertScoredOnce, cid, createEnv, redisPids, until } from './harness.mjs';
import net from 'node:net';

let env;
const who = {};

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            who.ann = await e.addParticipant('ann');
            who.rita = await e.addParticipant('rita'); // her key gets rotated and revoked
            await e.admin('challenge', 'create', 'files', '--title', 'Files', '--pool', 'files-pool',
                '--primary', 'score:desc', '--types', '.csv,.zip', '--max-upload', '8000000');
            await e.addRound('files', 1);
            await e.createChallenge('ops', { pool: 'ops-pool', maxAttempts: 1 });
            await e.addRound('ops', 1);
        },
    });
});

afterEach(() => env.closeClients());
after(() => env && env.cleanup());

async function upload(p, name, body, token = p.token) {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(`${env.url}/upload?name=${encodeURIComponent(name)}`, { method: 'PUT', body, headers });
    return { status: res.status, body: await res.json() };
}

/** crowdai-admin with its exit status (the harness's runAdmin rejects on failure). */
function admin(...args) {
    return new Promise((resolve) => {
        execFile(process.env.ADMIN_BIN || path.join(path.dirname(BROKER_BIN), 'crowdai-admin'),
            ['--data', env.dir, ...args], { timeout: 20000 }, (err, stdout, stderr) => {
                resolve({ code: err ? err.code : 0, stdout, stderr });
            });
    });
}

test('a file uploaded by a participant reaches the grader byte for byte, by its SHA-256', async () => {
    const p = await env.participant(who.ann, 'files');
    const seen = [];
    const g = await env.grader({
        pools: ['files-pool'],
        plan: (job) => {
            seen.push(job);
            return [{ complete: 0.7 }];
        },
    });
    // Larger than the default 4 MiB output cap: the download must be streamed chunk by chunk.
    const content = crypto.randomBytes(6 * 1024 * 1024);
    const sha = crypto.createHash('sha256').update(content).digest('hex');
    const up = await upload(p, 'predictions.csv', content);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual(up.body, { ok: true, file_key: sha, size: content.length, sha256: sha });
    const blob = path.join(env.dir, 'blobs', sha.slice(0, 2), sha);
    assert.ok(fs.readFileSync(blob).equals(content), 'stored under its SHA-256');
    assert.deepEqual(fs.readdirSync(path.join(env.dir, 'blobs', 'tmp')), [], 'no temp file left');

    const sub = await p.submitOk({ client_submission_id: cid('file'), file_key: sha });
    await until(() => seen.length === 1, { what: 'the job' });
    assert.equal(seen[0].file_key, sha);
    assert.equal(seen[0].file_url, `/files?key=${sha}`);
    const res = await fetch(env.url + seen[0].file_url, { headers: { authorization: `Bearer ${env.graderKey}` } });
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(content), 'downloaded byte for byte');
    assert.equal((await p.waitFinal(sub.submission_id)).type, 'COMPLETE');
    await assertScoredOnce([g], sub.submission_id);
});

test('uploads and downloads are refused with a reason', async () => {
    const p = await env.participant(who.ann, 'files');
    const noToken = await upload(p, 'a.csv', 'x', null);
    assert.deepEqual([noToken.status, noToken.body.code], [401, 'BAD_SESSION']);
    const badToken = await upload(p, 'a.csv', 'x', 'v2.1.files.1.9.aaaaaaaaaaaaaaaaaaaa.' + '0'.repeat(64));
    assert.deepEqual([badToken.status, badToken.body.code], [401, 'BAD_SESSION']);
    const wrongType = await upload(p, 'a.txt', 'x');
    assert.deepEqual([wrongType.status, wrongType.body.code], [415, 'WRONG_FILE_TYPE']);
    assert.match(wrongType.body.message, /\.csv,\.zip/);
    const tooBig = await upload(p, 'a.csv', crypto.randomBytes(8000001));
    assert.deepEqual([tooBig.status, tooBig.body.code], [413, 'FILE_TOO_LARGE']);
    assert.match(tooBig.body.message, /8000000/);
    const get = await fetch(`${env.url}/upload?name=a.csv`, { headers: { authorization: `Bearer ${p.token}` } });
    assert.equal(get.status, 405);

    const key = crypto.createHash('sha256').update('never uploaded').digest('hex');
    const asParticipant = await fetch(`${env.url}/files?key=${key}`, { headers: { authorization: `Bearer ${p.token}` } });
    assert.equal(asParticipant.status, 401, 'a participant token does not download');
    const missing = await fetch(`${env.url}/files?key=${key}`, { headers: { authorization: `Bearer ${env.graderKey}` } });
    assert.equal(missing.status, 404);
    const traversal = await fetch(`${env.url}/files?key=../../secret`, { headers: { authorization: `Bearer ${env.graderKey}` } });
    assert.equal(traversal.status, 400);
    // A submit naming a key that is not a SHA-256 is refused.
    const bad = await p.submit({ client_submission_id: cid('badkey'), file_key: '../etc/passwd' });
    assert.deepEqual([bad.ok, bad.code], [false, 'BAD_REQUEST']);
    assert.deepEqual(fs.readdirSync(path.join(env.dir, 'blobs', 'tmp')), [], 'refused uploads leave no temp file');
});

test('rotating or revoking an API key ends the sessions it opened, on every call', async () => {
    const p = await env.participant(who.rita, 'files');
    const sub = await p.submitOk({ client_submission_id: cid('rot'), data: { a: 1 } });
    const oldToken = p.token;
    const rotated = JSON.parse((await admin('key', 'rotate', String(who.rita.id), '--json')).stdout);
    assert.notEqual(rotated.api_key, who.rita.apiKey);
    const revokedCalls = [
        await p.submit({ client_submission_id: cid('rot'), data: { a: 2 } }),
        await p.status(sub.submission_id),
        await p.call('watch', { session_token: oldToken, submission_id: sub.submission_id, after_seq: 0 }),
        await p.call('cancel', { session_token: oldToken, submission_id: sub.submission_id }),
    ];
    for (const ack of revokedCalls) {
        assert.deepEqual([ack.ok, ack.code], [false, 'SESSION_REVOKED'], JSON.stringify(ack));
        assert.match(ack.message, /Authenticate again/);
    }
    const up = await upload(p, 'a.csv', 'x', oldToken);
    assert.deepEqual([up.status, up.body.code], [401, 'SESSION_REVOKED']);
    // The old key no longer authenticates; the new one does, and its session works.
    assert.equal((await p.authenticate()).code, 'BAD_API_KEY');
    assert.equal((await p.authenticate({ api_key: rotated.api_key })).ok, true);
    assert.equal((await p.status(sub.submission_id)).ok, true);
    // Revoking ends that session too, and nothing else authenticates.
    assert.equal((await admin('key', 'revoke', String(who.rita.id))).code, 0);
    assert.equal((await p.status(sub.submission_id)).code, 'SESSION_REVOKED');
    assert.equal((await p.authenticate({ api_key: rotated.api_key })).code, 'BAD_API_KEY');
    // The submission itself was not touched: it is still queued (no grader serves this pool here).
    const listed = await env.adminSubmissions();
    assert.equal(listed.find((s) => s.id === sub.submission_id).state, 'QUEUED');
});

test('crowdai-admin cancels a queued submission; the participant is told', async () => {
    const p = await env.participant(who.ann, 'ops');
    const sub = await p.submitOk({ client_submission_id: cid('cancel'), data: { plan: [{ complete: 1 }] } });
    await p.waitEvent(sub.submission_id, 'WAITING');
    const first = await admin('cancel', String(sub.submission_id));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /it was QUEUED/);
    const ev = await p.waitFinal(sub.submission_id);
    assert.equal(ev.type, 'CANCELLED');
    assert.match(ev.message, /organiser/);
    const again = await admin('cancel', String(sub.submission_id));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already ended \(CANCELLED\)/);
    const unknown = await admin('cancel', '999999');
    assert.equal(unknown.code, 1);
    const usage = await admin('cancel', 'abc');
    assert.equal(usage.code, 2);
    await until(async () => (await env.adminSubmissions()).find((r) => r.id === sub.submission_id)?.state === 'CANCELLED',
        { what: 'CANCELLED in the registry' });
});

test('a dead letter is listed, requeued by crowdai-admin and then graded once', async () => {
    const p = await env.participant(who.ann, 'ops');
    let failing = true;
    const g = await env.grader({
        pools: ['ops-pool'],
        plan: () => (failing ? [{ fail: 'transient trouble', retryable: true }] : [{ complete: 0.42 }]),
    });
    const sub = await p.submitOk({ client_submission_id: cid('dead'), data: {} });
    const dead = await p.waitFinal(sub.submission_id);
    assert.deepEqual([dead.type, dead.message], ['ERROR', 'transient trouble']);
    const listed = await admin('dead-letters', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).map(Number).includes(sub.submission_id), listed.stdout);
    await until(async () => (await env.adminSubmissions()).find((r) => r.id === sub.submission_id)?.state === 'ERROR',
        { what: 'ERROR in the registry' });

    failing = false;
    const requeued = await admin('requeue', String(sub.submission_id));
    assert.equal(requeued.code, 0, requeued.stderr);
    const done = await p.waitEvent(sub.submission_id, 'COMPLETE');
    assert.equal(done.data.score, 0.42);
    await assertScoredOnce([g], sub.submission_id);
    const row = await until(async () => {
        const r = (await env.adminSubmissions()).find((x) => x.id === sub.submission_id);
        return r && r.state === 'COMPLETE' ? r : undefined;
    }, { what: 'COMPLETE in the registry' });
    assert.equal(row.score, 0.42);
    const notDead = await admin('requeue', String(sub.submission_id));
    assert.equal(notDead.code, 1);
});

test('crowdai-admin regrade grades an ended submission again and its new score replaces the old', async () => {
    const p = await env.participant(who.ann, 'ops');
    let score = 0.25;
    const g = await env.grader({ pools: ['ops-pool'], plan: (job) => job.data?.plan ?? [{ complete: score }] });
    const sub = await p.submitOk({ client_submission_id: cid('regrade'), data: {} });
    assert.equal((await p.waitFinal(sub.submission_id)).data.score, 0.25);
    const scored = (x) => until(async () => {
        const r = (await env.adminSubmissions()).find((row) => row.id === sub.submission_id);
        return r && r.state === 'COMPLETE' && r.score === x ? r : undefined;
    }, { what: `score ${x} in the registry` });
    await scored(0.25);

    score = 0.75;
    const out = await admin('regrade', String(sub.submission_id));
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /it was COMPLETE/);
    const again = await p.waitEvent(sub.submission_id, (e) => e.type === 'COMPLETE' && e.data.score === 0.75);
    assert.ok(again.seq > 3, 'the new grading continues the same event stream');
    await scored(0.75);
    assert.equal(g.jobs(sub.submission_id).length, 2, 'graded twice, once per request');
    const board = await env.adminLeaderboard('ops');
    assert.equal(board.find((r) => r.submission_id === sub.submission_id)?.score, 0.75);

    const queued = await p.submitOk({ client_submission_id: cid('regrade-q'), data: { plan: [{ pause: 'hold' }, { complete: 1 }] } });
    await g.waitJob(queued.submission_id);
    const refused = await admin('regrade', String(queued.submission_id));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot be re-graded: it is RUNNING/);
    g.resume(queued.submission_id, 'hold');
    await p.waitFinal(queued.submission_id);
});

test('status right after the final event agrees with it, before the registry catches up', async () => {
    const p = await env.participant(who.ann, 'ops');
    await env.grader({ pools: ['ops-pool'], plan: (job) => [{ complete: job.data.score }] });
    for (let i = 1; i <= 8; i++) {
        const score = i / 10;
        const sub = await p.submitOk({ client_submission_id: cid('status'), data: { score } });
        const done = await p.waitFinal(sub.submission_id);
        const st = await p.status(sub.submission_id);
        assert.deepEqual([done.type, st.state, st.score], ['COMPLETE', 'COMPLETE', score], JSON.stringify(st));
    }
});

test('/healthz and /metrics tell what the broker is doing', async () => {
    const health = await fetch(`${env.url}/healthz`);
    assert.equal(health.status, 200);
    const h = await health.json();
    assert.deepEqual([h.status, h.redis, h.registry], ['ok', true, true]);

    const before = await metrics();
    const p = await env.participant(who.ann, 'ops');
    const g = await env.grader({ pools: ['ops-pool'], plan: [{ progress: 50 }, { complete: 0.3 }] });
    const sub = await p.submitOk({ client_submission_id: cid('metrics'), data: {} });
    await p.waitFinal(sub.submission_id);
    await assertScoredOnce([g], sub.submission_id);
    const now = await until(async () => {
        const m = await metrics();
        return m.crowdai_scores_applied_total > before.crowdai_scores_applied_total ? m : undefined;
    }, { what: 'the score applied in /metrics' });
    assert.equal(now.crowdai_submissions_accepted_total, before.crowdai_submissions_accepted_total + 1);
    assert.equal(now.crowdai_jobs_dispatched_total, before.crowdai_jobs_dispatched_total + 1);
    assert.equal(now.crowdai_grader_reports_total, before.crowdai_grader_reports_total + 2);
    assert.equal(now.crowdai_event_latency_ms_count, before.crowdai_event_latency_ms_count + 2);
    assert.equal(now['crowdai_graders_online{pool="ops-pool"}'], 1);
    assert.equal(now['crowdai_graders_online_all{pool="ops-pool"}'], 1, 'the shared presence counts it too');
    assert.equal(now['crowdai_queue_depth{pool="ops-pool"}'], 0);
    assert.equal(now.crowdai_redis_up, 1);
    // Submissions by state, from the registry: the one graded here moved from QUEUED/RUNNING
    // to COMPLETE, and every submission of the registry is counted in exactly one state.
    const state = (m, st) => m[`crowdai_submissions{state="${st}"}`];
    assert.equal(state(now, 'complete'), state(before, 'complete') + 1);
    const total = (m) => ['queued', 'running', 'complete', 'error', 'timeout', 'cancelled'].reduce((n, st) => n + state(m, st), 0);
    assert.equal(total(now), (await env.adminSubmissions()).length);
    assert.equal(state(now, 'queued') + state(now, 'running'),
        (await env.adminSubmissions()).filter((s) => s.state === 'QUEUED' || s.state === 'RUNNING').length);
});

/** /metrics as {name{labels}: value}, checking the text format on the way. */
async function metrics() {
    const res = await fetch(`${env.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain/);
    const out = {};
    for (const line of (await res.text()).split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const m = /^([a-z_]+(?:\{[^}]*\})?) (-?[0-9.e+]+)$/.exec(line);
        assert.ok(m, `a Prometheus sample line: ${line}`);
        out[m[1]] = Number(m[2]);
    }
    return out;
}

test('a configuration file sets what flags set, and a bad line is named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    try {
        const good = path.join(dir, 'good.conf');
        fs.writeFileSync(good, '# conformance settings from a file\nport = 0   # any free port\nmax-payload = 5000\n');
        const proc = spawn(BROKER_BIN, ['--conformance', '--config', good], { stdio: ['ignore', 'pipe', 'pipe'] });
        const port = await new Promise((resolve, reject) => {
            let out = '';
            const t = setTimeout(() => reject(new Error('no READY')), 10000);
            proc.stdout.on('data', (d) => {
                out += d;
                const m = /READY port=(\d+)/.exec(out);
                if (m) {
                    clearTimeout(t);
                    resolve(Number(m[1]));
                }
            });
        });
        const open = await (await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`)).text();
        assert.match(open, /"maxPayload":5000/, 'max-payload came from the file');
        proc.kill('SIGTERM');
        await new Promise((resolve) => proc.once('exit', resolve));

        const bad = path.join(dir, 'bad.conf');
        fs.writeFileSync(bad, 'port = 0\nping-interval = soon\n');
        const result = await new Promise((resolve) => {
            execFile(BROKER_BIN, ['--conformance', '--config', bad], { timeout: 10000 }, (err, stdout, stderr) => {
                resolve({ code: err ? err.code : 0, stderr });
            });
        });
        assert.equal(result.code, 2);
        assert.match(result.stderr, /bad\.conf:2: bad setting ping-interval/);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test('a port in use stops the start before the private redis-server is started', async () => {
    const taken = net.createServer();
    await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-port-'));
    try {
        const b = new Broker(dir, STEADY_TIMINGS);
        b.port = taken.address().port;
        await assert.rejects(b.start(), /cannot listen on 127\.0\.0\.1:\d+/);
        assert.deepEqual(redisPids(dir), [], 'no redis-server left serving the data directory');
        assert.equal(fs.existsSync(path.join(dir, 'redis')), false, 'redis-server was never started');
    } finally {
        taken.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
