// crowdAI Gen-2 graders ("job factories") through the broker's --gen2 bridge: jobs LPUSHed
// to <namespace>::enqueue_job on the graders' own Redis, their JSON messages RPUSHed to the
// job's broker_response_channel and relayed to the participant; a grader that never answers
// ends in TIMEOUT; jobs wait in the queue while the graders' Redis is down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, createEnv, freePort, sleep, until } from './harness.mjs';

const NS = 'IEEEJobFactory';
const DB = 3;
let env;
let gradersRedis;
let redisPort;
const who = {};

/** A minimal RESP client: one command at a time. */
class Resp {
    constructor(port) {
        this.port = port;
        this.buf = Buffer.alloc(0);
        this.waiting = [];
    }

    connect() {
        return new Promise((resolve, reject) => {
            this.sock = net.connect(this.port, '127.0.0.1', resolve);
            this.sock.on('error', reject);
            this.sock.on('data', (d) => {
                this.buf = Buffer.concat([this.buf, d]);
                this.drain();
            });
        });
    }

    /** Parses one reply at offset i; returns [value, next] or undefined when incomplete. */
    parse(i) {
        const eol = this.buf.indexOf('\r\n', i);
        if (eol < 0) return undefined;
        const type = String.fromCharCode(this.buf[i]);
        const line = this.buf.toString('utf8', i + 1, eol);
        if (type === '+') return [line, eol + 2];
        if (type === '-') return [new Error(line), eol + 2];
        if (type === ':') return [Number(line), eol + 2];
        if (type === '$') {
            const n = Number(line);
            if (n < 0) return [null, eol + 2];
            if (this.buf.length < eol + 2 + n + 2) return undefined;
            return [this.buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2];
        }
        if (type === '*') {
            const n = Number(line);
            if (n < 0) return [null, eol + 2];
            const out = [];
            let at = eol + 2;
            for (let k = 0; k < n; k++) {
                const r = this.parse(at);
                if (!r) return undefined;
                out.push(r[0]);
                at = r[1];
            }
            return [out, at];
        }
        throw new Error(`bad RESP type ${type}`);
    }

    drain() {
        while (this.waiting.length) {
            const r = this.parse(0);
            if (!r) return;
            this.buf = this.buf.subarray(r[1]);
            this.waiting.shift()(r[0]);
        }
    }

    call(...args) {
        const parts = [`*${args.length}\r\n`];
        for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
        return new Promise((resolve) => {
            this.waiting.push(resolve);
            this.sock.write(parts.join(''));
        });
    }

    close() {
        if (this.sock) this.sock.destroy();
    }
}

/** A Gen-2 job factory: BRPOPs jobs and answers each with the messages plan(job) gives. */
class JobFactory {
    constructor(plan) {
        this.plan = plan;
        this.jobs = [];
        this.stopped = false;
    }

    async start() {
        this.r = new Resp(redisPort);
        this.w = new Resp(redisPort);
        await this.r.connect();
        await this.w.connect();
        await this.r.call('SELECT', DB);
        await this.w.call('SELECT', DB);
        this.loop = (async () => {
            while (!this.stopped) {
                const got = await this.r.call('BRPOP', `${NS}::enqueue_job`, 1);
                if (!got || this.stopped) continue;
                const job = JSON.parse(got[1]);
                this.jobs.push(job);
                for (const m of this.plan(job)) {
                    if (m.delay) {
                        await sleep(m.delay);
                        continue;
                    }
                    const msg = { job_id: 'rq-' + job.extra_params.submission_id, data_sequence_no: job.data_sequence_no, data: {}, message: '', ...m };
                    await this.w.call('RPUSH', job.broker_response_channel, JSON.stringify(msg));
                }
            }
        })();
        return this;
    }

    async stop() {
        this.stopped = true;
        await this.loop;
        this.r.close();
        this.w.close();
    }
}

const T = 'CrowdAI.Event.Job.';

async function startGradersRedis() {
    const dir = path.join(env.dir, 'graders-redis');
    fs.mkdirSync(dir, { recursive: true });
    gradersRedis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' });
    await until(async () => {
        const c = new Resp(redisPort);
        try {
            await c.connect();
            return (await c.call('PING')) === 'PONG';
        } catch {
            return false;
        } finally {
            c.close();
        }
    }, { what: "the graders' redis-server" });
}

before(async () => {
    redisPort = await freePort();
    env = await createEnv({
        brokerArgs: [...STEADY_TIMINGS, '--gen2', `gen2-pool=127.0.0.1:${redisPort}/${DB}/${NS}/2`],
        seed: async (e) => {
            who.ann = await e.addParticipant('ann');
            await e.createChallenge('ieee', { pool: 'gen2-pool', secondary: 'sharpe:desc', timeLimit: 3 });
            await e.addRound('ieee', 1);
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    if (gradersRedis) gradersRedis.kill('SIGKILL');
    if (env) await env.cleanup();
});

test("the graders' Redis is down: the submission waits in the queue, then is graded once it is up", async () => {
    const p = await env.participant(who.ann, 'ieee');
    const sub = await p.submitOk({ client_submission_id: 'g2-wait', data: { file_key: 'preds.csv', round: 1 } });
    await sleep(600); // several bridge ticks with nowhere to push
    assert.deepEqual(p.types(sub.submission_id).filter((t) => t !== 'WAITING'), ['ENQUEUED'], 'not sent anywhere yet');
    await startGradersRedis();
    const factory = await new JobFactory(() => [
        { response_type: T + 'ENQUEUED' },
        { response_type: T + 'COMPLETE', data: { score: 0.5, score_secondary: 2 } },
    ]).start();
    try {
        assert.equal((await p.waitFinal(sub.submission_id)).type, 'COMPLETE');
        assert.equal(factory.jobs.length, 1);
    } finally {
        await factory.stop();
    }
});

test('a Gen-2 grader grades through the bridge: its messages reach the participant, the score lands once', async () => {
    const factory = await new JobFactory((job) => [
        { response_type: T + 'ENQUEUED' },
        { response_type: T + 'RUNNING' },
        { response_type: T + 'PROGRESS_UPDATE', data: { percent_complete: 40.0, message: 'scoring' } },
        { response_type: T + 'INFO', message: 'halfway there' },
        { response_type: T + 'COMPLETE', data: { score: job.data.value, score_secondary: 1.25 } },
    ]).start();
    try {
        const p = await env.participant(who.ann, 'ieee');
        const sub = await p.submitOk({ client_submission_id: 'g2-happy', data: { value: 0.875, function_name: 'grade_submission' } });
        const fin = await p.waitFinal(sub.submission_id);
        assert.equal(fin.type, 'COMPLETE');
        assert.deepEqual(fin.data, { score: 0.875, score_secondary: 1.25 });
        assert.deepEqual(p.types(sub.submission_id), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'COMPLETE']);
        const progress = p.events(sub.submission_id).find((e) => e.type === 'PROGRESS_UPDATE');
        assert.deepEqual([progress.percent, progress.message], [40, 'scoring']);
        // The job as Gen-2 graders read it.
        const job = factory.jobs.find((j) => j.extra_params.submission_id === sub.submission_id);
        assert.equal(job.function_name, 'grade_submission');
        assert.equal(job.data_sequence_no, 0);
        assert.deepEqual(job.data, { value: 0.875, function_name: 'grade_submission' });
        assert.equal(job.extra_params.challenge_id, 'ieee');
        assert.match(job.broker_response_channel, new RegExp(`^${NS}::broker_response::${sub.submission_id}::\\d+$`));
        await until(async () => (await env.adminLeaderboard('ieee')).some((r) => r.score === 0.875), { what: 'the score on the leaderboard' });
        const rows = (await env.adminSubmissions()).filter((s) => s.id === sub.submission_id);
        assert.deepEqual(rows.map((r) => [r.state, r.score]), [['COMPLETE', 0.875]]);
    } finally {
        await factory.stop();
    }
});

test("a Gen-2 grader's ERROR ends the submission in ERROR with its message", async () => {
    const factory = await new JobFactory(() => [{ response_type: T + 'ERROR', message: 'Your CSV has 3 columns; 2 were expected.' }]).start();
    try {
        const p = await env.participant(who.ann, 'ieee');
        const sub = await p.submitOk({ client_submission_id: 'g2-error', data: { v: 1 } });
        const fin = await p.waitFinal(sub.submission_id);
        assert.deepEqual([fin.type, fin.message], ['ERROR', 'Your CSV has 3 columns; 2 were expected.']);
    } finally {
        await factory.stop();
    }
});

test('a Gen-2 grader that takes the job and never answers: TIMEOUT at the time limit, a late answer is ignored', async () => {
    const late = [];
    const factory = await new JobFactory((job) => {
        late.push(job);
        return [{ response_type: T + 'ENQUEUED' }];
    }).start();
    try {
        const p = await env.participant(who.ann, 'ieee');
        const sub = await p.submitOk({ client_submission_id: 'g2-silent', data: { v: 2 } });
        const fin = await p.waitFinal(sub.submission_id, { timeout: 15000 });
        assert.equal(fin.type, 'TIMEOUT');
        // The grader answers after all: fenced off, nothing changes.
        const w = new Resp(redisPort);
        await w.connect();
        await w.call('SELECT', DB);
        await w.call('RPUSH', late[0].broker_response_channel, JSON.stringify({ response_type: T + 'COMPLETE', data: { score: 1 } }));
        w.close();
        await sleep(600);
        await p.settle();
        assert.equal(p.types(sub.submission_id).at(-1), 'TIMEOUT');
        const row = (await env.adminSubmissions()).find((s) => s.id === sub.submission_id);
        await until(async () => (await env.adminSubmissions()).find((s) => s.id === sub.submission_id).state === 'TIMEOUT', { what: 'TIMEOUT in the registry' });
        assert.equal(row.score, null);
    } finally {
        await factory.stop();
    }
});

test('queue_status says the pool is graded through the Gen-2 bridge', async () => {
    const p = await env.participant(who.ann, 'ieee');
    const st = await p.call('queue_status', {});
    assert.equal(st.ok, true, JSON.stringify(st));
    const pool = st.pools.find((x) => x.pool === 'gen2-pool');
    assert.ok(pool, JSON.stringify(st.pools));
    assert.equal(pool.gen2_bridge, true);
    assert.deepEqual(pool.challenges, ['ieee']);
});
