// End-to-end fixtures: the real broker binary on a fresh data directory (with the private
// redis-server it supervises), seeding through crowdai-admin, participants and scripted graders
// built on socket.io-client, bounded waits, and cleanup that leaves no process behind.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { checkSanitizers } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

export const BROKER_BIN = process.env.BROKER_BIN || path.join(root, 'build/debug/bin/crowdai-broker');
export const ADMIN_BIN = process.env.ADMIN_BIN || path.join(path.dirname(BROKER_BIN), 'crowdai-admin');

/** Limit of any single wait, in ms: generous, a wait that runs out is a failure, never a pass. */
export const WAIT_MS = 10000;

/** Short timings so that leases, retries and the janitor act within a test. */
export const FAST_TIMINGS = ['--lease', '1500', '--janitor', '200', '--retry-base', '100', '--retry-cap', '400'];

/**
 * The same with a 10 s lease, for the files that hold jobs paused on purpose and expect no
 * requeue meanwhile even on a loaded machine (their leases never run out by design).
 */
export const STEADY_TIMINGS = ['--lease', '10000', '--janitor', '200', '--retry-base', '100', '--retry-cap', '400'];

export const FINAL_TYPES = new Set(['COMPLETE', 'ERROR', 'TIMEOUT', 'CANCELLED']);
export const EVENT_TYPES = new Set(['ENQUEUED', 'WAITING', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', ...FINAL_TYPES]);
export const FINAL_STATES = new Set(['COMPLETE', 'ERROR', 'TIMEOUT', 'CANCELLED']);

export { sleep };

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Calls `check` until it returns a value other than undefined/false without throwing; resolves
 * with that value. Rejects after `timeout` ms with `what` and the last error seen.
 */
export async function until(check, { timeout = WAIT_MS, interval = 50, what = 'a condition' } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined && v !== false) return v;
            last = undefined;
        } catch (err) {
            last = err;
        }
        if (Date.now() >= deadline) {
            const why = last ? `\nlast failure: ${last.stack || last.message}` : '';
            throw new Error(`timed out after ${timeout} ms waiting for ${what}${why}`);
        }
        await sleep(interval);
    }
}

/** Records items by kind and lets a test wait for one that matches, with a bound. */
export class Recorder {
    constructor(name) {
        this.name = name;
        this.items = [];
        this.emitter = new EventEmitter();
        this.emitter.setMaxListeners(0);
    }

    push(kind, value) {
        this.items.push({ kind, value });
        this.emitter.emit('item', kind, value);
    }

    list(kind, pred = () => true) {
        return this.items.filter((i) => i.kind === kind && pred(i.value)).map((i) => i.value);
    }

    /** Resolves with the `count`-th item of `kind` that passes `pred` (already seen ones count). */
    waitFor(kind, pred = () => true, { timeout = WAIT_MS, what, count = 1 } = {}) {
        const found = () => {
            const l = this.list(kind, pred);
            return l.length >= count ? l[count - 1] : undefined;
        };
        const now = found();
        if (now !== undefined) return Promise.resolve(now);
        return new Promise((resolve, reject) => {
            const onItem = (k) => {
                if (k !== kind) return;
                const v = found();
                if (v === undefined) return;
                clearTimeout(timer);
                this.emitter.off('item', onItem);
                resolve(v);
            };
            const timer = setTimeout(() => {
                this.emitter.off('item', onItem);
                const seen = JSON.stringify(this.list(kind)).slice(0, 3000);
                reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ` +
                    `${what || kind} (x${count}); ${kind} so far: ${seen}`));
            }, timeout);
            this.emitter.on('item', onItem);
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Processes: a register of everything started, killed on exit whatever happens

const livePids = new Set();
const liveDirs = new Set();

function killQuietly(pid, signal = 'SIGKILL') {
    try {
        process.kill(pid, signal);
        return true;
    } catch {
        return false;
    }
}

process.on('exit', () => {
    for (const pid of livePids) killQuietly(pid);
    for (const dir of liveDirs) for (const pid of redisPids(dir)) killQuietly(pid);
});

/** Whether `pid` is a live process (a zombie counts as gone). */
export function alive(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return !/^\d+ \(.*\) [ZX] /.test(stat);
    } catch {
        return false;
    }
}

/** Pids of redis-server processes whose working directory is `dataDir`/redis. */
export function redisPids(dataDir) {
    let want;
    try {
        want = fs.realpathSync(path.join(dataDir, 'redis'));
    } catch {
        return [];
    }
    const pids = [];
    for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const comm = fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim();
            if (!comm.startsWith('redis-server')) continue;
            if (fs.readlinkSync(`/proc/${name}/cwd`) !== want) continue;
            if (alive(Number(name))) pids.push(Number(name));
        } catch {
            // gone meanwhile, or not ours to look at
        }
    }
    return pids;
}

/** The parent pid of `pid`, or undefined when it is gone. */
export function parentPid(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
        return undefined;
    }
}

function waitExit(proc, timeout) {
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
        const timer = setTimeout(() => {
            proc.off('exit', onExit);
            resolve(false);
        }, timeout);
        const onExit = () => {
            clearTimeout(timer);
            resolve(true);
        };
        proc.once('exit', onExit);
    });
}

/** SIGTERM, then SIGKILL after `grace` ms; resolves once the process is gone. */
async function terminate(proc, grace = 5000) {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    if (await waitExit(proc, grace)) return;
    proc.kill('SIGKILL');
    await waitExit(proc, grace);
}

// ---------------------------------------------------------------------------------------------
// The broker

/** The broker in broker mode on `dir`; `restart()` reuses the port so that clients reconnect. */
export class Broker {
    constructor(dir, args = []) {
        this.dir = dir;
        this.args = args;
        this.port = 0;
        this.proc = null;
        this.lives = 0;
        this.stderrs = [];
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    get pid() {
        return this.proc ? this.proc.pid : undefined;
    }

    get running() {
        return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
    }

    /** Starts it; resolves once it printed READY (rejects after `timeout` ms). */
    start({ timeout = 20000 } = {}) {
        assert.ok(!this.running, 'the broker is already running');
        const life = this.lives++;
        const args = ['--port', String(this.port), '--data', this.dir, ...this.args];
        const proc = spawn(BROKER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        this.proc = proc;
        livePids.add(proc.pid);
        proc.on('exit', () => livePids.delete(proc.pid));
        const log = fs.createWriteStream(path.join(this.dir, `broker-${life}.log`));
        const record = { text: '' };
        this.stderrs.push(record);
        proc.stderr.on('data', (d) => {
            record.text += d.toString();
            log.write(d);
            if (process.env.SERVER_LOG) process.stderr.write(d);
        });
        proc.on('exit', () => log.end());
        return new Promise((resolve, reject) => {
            let out = '';
            const fail = (err) => {
                clearTimeout(timer);
                proc.kill('SIGKILL');
                reject(err);
            };
            const timer = setTimeout(() => fail(new Error(
                `broker did not print READY within ${timeout} ms\n${record.text.slice(-4000)}`)), timeout);
            proc.stdout.on('data', (d) => {
                out += d.toString();
                const m = out.match(/READY port=(\d+)/);
                if (!m || this.readyLife === life) return;
                this.readyLife = life;
                clearTimeout(timer);
                this.port = Number(m[1]);
                resolve(this);
            });
            proc.on('error', fail);
            proc.on('exit', (code, signal) => {
                if (this.readyLife === life) return;
                clearTimeout(timer);
                reject(new Error(`broker exited (${code ?? signal}) before READY\n${record.text.slice(-4000)}`));
            });
        });
    }

    /** kill -9; resolves once it is gone. Its redis-server is not touched. */
    async kill9() {
        if (!this.running) return;
        this.proc.kill('SIGKILL');
        await waitExit(this.proc, WAIT_MS);
    }

    /** SIGTERM (SIGKILL after 5 s); resolves with the exit code. */
    async stop() {
        if (!this.proc) return null;
        await terminate(this.proc);
        return this.proc.exitCode;
    }

    /** Throws when any life of the broker printed a sanitizer report. */
    checkSanitizers() {
        for (const s of this.stderrs) checkSanitizers(s.text);
    }

    stderr() {
        return this.stderrs.map((s) => s.text).join('\n--- restart ---\n');
    }
}

// ---------------------------------------------------------------------------------------------
// crowdai-admin and what it prints

/** Runs crowdai-admin on `dir`; resolves with its stdout, rejects on a non-zero exit. */
export function runAdmin(dir, args, { timeout = 20000 } = {}) {
    return new Promise((resolve, reject) => {
        execFile(ADMIN_BIN, ['--data', dir, ...args], { timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(`crowdai-admin ${args.join(' ')} failed (${err.code ?? err.signal}): ` +
                    `${stderr}${stdout}`));
                return;
            }
            resolve(stdout);
        });
    });
}

function tryJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** `participant add NAME` -> {id, apiKey}. */
export function parseParticipantAdd(out) {
    const j = tryJson(out);
    if (j && typeof j === 'object') {
        const id = j.id ?? j.participant_id ?? j.participant?.id;
        const apiKey = j.api_key ?? j.apiKey ?? j.key;
        if (id !== undefined && apiKey) return { id: Number(id), apiKey: String(apiKey) };
    }
    const id = out.match(/\b(?:participant[_ ])?id\b\s*[=:]?\s*(\d+)/i);
    const key = out.match(/\b(?:api[_ -]?key|key)\b\s*[=:]?\s*(\S+)/i);
    assert.ok(id && key, `cannot read the participant id and API key from:\n${out}`);
    return { id: Number(id[1]), apiKey: key[1] };
}

/** `grader-key add NAME` -> the key. */
export function parseGraderKey(out) {
    const j = tryJson(out);
    if (j && typeof j === 'object' && (j.key || j.grader_key)) return String(j.key || j.grader_key);
    const key = out.match(/\b(?:grader[_ -]?key|key)\b\s*[=:]?\s*(\S+)/i);
    if (key) return key[1];
    const words = out.split(/\s+/).filter((w) => /^[A-Za-z0-9_.~+/=-]{16,}$/.test(w));
    assert.equal(words.length, 1, `cannot read the grader key from:\n${out}`);
    return words[0];
}

function rowsOf(j, ...names) {
    if (Array.isArray(j)) return j;
    for (const n of names) if (j && Array.isArray(j[n])) return j[n];
    throw new Error(`expected a JSON array (or an object with ${names.join('/')}), got ${JSON.stringify(j).slice(0, 500)}`);
}

/** `leaderboard CHALLENGE --json` -> [{rank, participant, submission_id, score, score_secondary}]. */
export function parseLeaderboardJson(out) {
    const j = tryJson(out);
    assert.ok(j !== undefined, `leaderboard --json printed no JSON:\n${out}`);
    return rowsOf(j, 'rows', 'leaderboard').map((r) => ({
        rank: r.rank,
        participant: r.participant_name ?? (typeof r.participant === 'object' ? r.participant?.name : r.participant) ?? r.name,
        submission_id: Number(r.submission_id ?? r.submission),
        score: r.score ?? r.primary,
        score_secondary: r.score_secondary ?? r.secondary ?? null,
    }));
}

const STATE_NAMES = ['QUEUED', 'RUNNING', 'COMPLETE', 'ERROR', 'TIMEOUT', 'CANCELLED'];

/** `submissions --json` -> [{id, participant_id, challenge_id, client_submission_id, state, score}]. */
export function parseSubmissionsJson(out) {
    const j = tryJson(out);
    assert.ok(j !== undefined, `submissions --json printed no JSON:\n${out}`);
    return rowsOf(j, 'submissions', 'rows').map((r) => ({
        ...r,
        id: Number(r.id ?? r.submission_id),
        state: typeof r.state === 'number' ? STATE_NAMES[r.state] : String(r.state).toUpperCase(),
        score: r.score ?? null,
    }));
}

/** An ISO 8601 time `offsetMs` from now, to the second. */
export function isoIn(offsetMs) {
    return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Participants

/** A participant's socket: authenticates, calls with acks, and records submission_event pushes. */
export class Participant {
    constructor(url, { apiKey, challengeId, name = 'participant', reconnection = false }) {
        this.url = url;
        this.apiKey = apiKey;
        this.challengeId = challengeId;
        this.name = name;
        this.reconnection = reconnection;
        this.rec = new Recorder(`participant ${name}`);
        this.token = undefined;
        this.socket = undefined;
        this.acked = new Set(); // submission ids the broker acknowledged
    }

    /** Opens a socket (a new one each time) and waits until it is connected. */
    async connect() {
        if (this.socket) this.socket.close();
        const socket = io(this.url, {
            forceNew: true,
            reconnection: this.reconnection,
            reconnectionDelay: 100,
            reconnectionDelayMax: 400,
            timeout: WAIT_MS,
        });
        this.socket = socket;
        socket.on('submission_event', (ev) => this.rec.push('event', ev));
        socket.on('connect', () => this.rec.push('connect', socket.id));
        socket.on('disconnect', (reason) => this.rec.push('disconnect', reason));
        await this.connected();
        return this;
    }

    /** Waits until the socket is connected (again). */
    connected({ timeout = WAIT_MS } = {}) {
        if (this.socket.connected) return Promise.resolve();
        return new Promise((resolve, reject) => {
            const done = (err) => {
                clearTimeout(timer);
                this.socket.off('connect', onConnect);
                this.socket.off('connect_error', onError);
                if (err) reject(err);
                else resolve();
            };
            const onConnect = () => done();
            const onError = (err) => {
                if (!this.reconnection) done(new Error(`participant ${this.name} could not connect: ${err.message}`));
            };
            const timer = setTimeout(() => done(new Error(`participant ${this.name} not connected after ${timeout} ms`)), timeout);
            this.socket.on('connect', onConnect);
            this.socket.on('connect_error', onError);
        });
    }

    /** Emits `event` with `args`; resolves with the ack's first argument. */
    async call(event, args, { timeout = WAIT_MS } = {}) {
        try {
            return await this.socket.timeout(timeout).emitWithAck(event, args);
        } catch (err) {
            throw new Error(`participant ${this.name}: no ack for '${event}' ${JSON.stringify(args)}: ${err.message}`);
        }
    }

    /** authenticate; keeps the token when it succeeds. */
    async authenticate(overrides = {}) {
        const ack = await this.call('authenticate', {
            api_key: this.apiKey, challenge_id: this.challengeId, client_version: 'e2e-tests', ...overrides,
        });
        if (ack && ack.ok) this.token = ack.session_token;
        return ack;
    }

    async submit(fields) {
        const ack = await this.call('submit', { session_token: this.token, challenge_id: this.challengeId, ...fields });
        if (ack && ack.ok) this.acked.add(ack.submission_id);
        return ack;
    }

    /** submit that must succeed; returns the ack. */
    async submitOk(fields) {
        const ack = await this.submit(fields);
        assert.equal(ack.ok, true, `submit ${JSON.stringify(fields)} refused: ${JSON.stringify(ack)}`);
        return ack;
    }

    /**
     * submit, again with the same client_submission_id while the broker answers that its queue
     * is unavailable (what its message tells a client to do); bounded.
     */
    async submitRetrying(fields, { timeout = 20000 } = {}) {
        const deadline = Date.now() + timeout;
        for (;;) {
            let ack;
            try {
                ack = await this.submit(fields);
            } catch (err) {
                if (Date.now() > deadline) throw err;
                await this.connected();
                continue;
            }
            if (ack.ok) return ack;
            if (ack.code !== 'QUEUE_UNAVAILABLE' || Date.now() > deadline)
                assert.fail(`submit ${JSON.stringify(fields)} refused: ${JSON.stringify(ack)}`);
            await sleep(200);
        }
    }

    status(submissionId) {
        return this.call('status', { session_token: this.token, submission_id: submissionId });
    }

    watch(submissionId, afterSeq) {
        return this.call('watch', { session_token: this.token, submission_id: submissionId, after_seq: afterSeq });
    }

    cancel(submissionId) {
        return this.call('cancel', { session_token: this.token, submission_id: submissionId });
    }

    leaderboard(challengeId = this.challengeId, round) {
        const args = { challenge_id: challengeId };
        if (round !== undefined) args.round = round;
        return this.call('leaderboard', args);
    }

    /**
     * Two acked round trips through the broker: events it had already sent to this socket have
     * arrived by then (used before asserting that nothing more came).
     */
    async settle() {
        for (let i = 0; i < 2; i++) {
            const ack = await this.leaderboard();
            assert.equal(ack.ok, true, `leaderboard round trip: ${JSON.stringify(ack)}`);
        }
    }

    /** Every submission_event received for `submissionId`, in arrival order. */
    events(submissionId) {
        return this.rec.list('event', (e) => e.submission_id === submissionId);
    }

    types(submissionId) {
        return this.events(submissionId).map((e) => e.type);
    }

    lastSeq(submissionId) {
        const evs = this.events(submissionId);
        return evs.length ? evs[evs.length - 1].seq : 0;
    }

    /** Resolves with the first event of `submissionId` whose type is `type` (or passes `pred`). */
    waitEvent(submissionId, typeOrPred, opts = {}) {
        const pred = typeof typeOrPred === 'function' ? typeOrPred : (e) => e.type === typeOrPred;
        return this.rec.waitFor('event', (e) => e.submission_id === submissionId && pred(e), {
            what: `event ${typeof typeOrPred === 'string' ? typeOrPred : '(predicate)'} of submission ${submissionId}`,
            ...opts,
        });
    }

    waitFinal(submissionId, opts = {}) {
        return this.waitEvent(submissionId, (e) => FINAL_TYPES.has(e.type), { ...opts, what: `a final event of submission ${submissionId}` });
    }

    close() {
        if (this.socket) this.socket.close();
    }
}

/** Asserts the shape of one submission_event. */
export function assertEventShape(ev) {
    assert.equal(typeof ev.submission_id, 'number', `submission_id of ${JSON.stringify(ev)}`);
    assert.ok(Number.isInteger(ev.seq) && ev.seq >= 1, `seq of ${JSON.stringify(ev)}`);
    assert.ok(EVENT_TYPES.has(ev.type), `type of ${JSON.stringify(ev)}`);
    assert.equal(typeof ev.percent, 'number', `percent of ${JSON.stringify(ev)}`);
    assert.equal(typeof ev.message, 'string', `message of ${JSON.stringify(ev)}`);
    assert.ok('data' in ev, `data of ${JSON.stringify(ev)}`);
    assert.ok(typeof ev.at === 'string' && !Number.isNaN(Date.parse(ev.at)), `at of ${JSON.stringify(ev)}`);
}

/**
 * Asserts that `events` (one submission, as one socket received them) have seq firstSeq,
 * firstSeq+1, ... without gaps or repeats, a valid shape, and nothing after a final event.
 */
export function assertStream(events, firstSeq = 1) {
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => firstSeq + i), `seqs in order without gaps or repeats: ${JSON.stringify(events)}`);
    events.forEach(assertEventShape);
    const final = events.findIndex((e) => FINAL_TYPES.has(e.type));
    if (final >= 0) assert.equal(final, events.length - 1, `nothing after the final event: ${JSON.stringify(events)}`);
}

// ---------------------------------------------------------------------------------------------
// Graders

/**
 * A grader on `/grader` that plays a plan per job. A plan is a list of steps:
 *   {progress: P, message?}   progress report (renews the lease)
 *   {info: MESSAGE}           info report
 *   {pause: LABEL}            waits until resume(submission_id, LABEL) (true by default);
 *                             once released, later pauses with that label pass at once
 *   {delay: MS}
 *   {ticks: N, every: MS}     N progress reports MS apart (stops on a refusal)
 *   {complete: SCORE, secondary?}
 *   {fail: MESSAGE, retryable}
 *   {hang: true}              keeps the job and never says anything more
 *   {disconnect: true}        closes the socket
 * The plan comes from the `plan` option (a list, or a function of the job), else from the
 * job's data `plan`, else it completes with the data's `score`.
 * Everything is recorded: 'connect', 'job', 'report' ({event, args, ack}), 'cancel', 'error'.
 */
export class ScriptedGrader {
    constructor(url, { key, pools, capacity = 1, name = 'grader', plan, reconnection = true, onRecord } = {}) {
        this.url = url;
        this.auth = { grader_key: key, pools, capacity, name };
        this.name = name;
        this.plan = plan;
        this.reconnection = reconnection;
        this.rec = new Recorder(`grader ${name}`);
        this.onRecord = onRecord;
        this.released = new Set();
        this.gates = new Map();
        this.cancelled = new Set();
        this.socket = undefined;
    }

    record(kind, value) {
        this.rec.push(kind, value);
        if (this.onRecord) this.onRecord(kind, value);
    }

    /** Connects; resolves once connected, rejects with the connect_error. */
    connect({ timeout = WAIT_MS } = {}) {
        const socket = io(`${this.url}/grader`, {
            forceNew: true,
            transports: ['websocket'],
            auth: this.auth,
            reconnection: this.reconnection,
            reconnectionDelay: 100,
            reconnectionDelayMax: 400,
            timeout: WAIT_MS,
        });
        this.socket = socket;
        socket.on('job', (job) => {
            this.record('job', job);
            this.run(job).catch((err) => this.record('error', { submission_id: job.submission_id, message: err.message }));
        });
        socket.on('cancel', (msg) => {
            this.record('cancel', msg);
            this.cancelled.add(`${msg.submission_id}/${msg.lease_token}`);
            // Wake every pause of that submission: each job rechecks whether it was cancelled.
            for (const [key, waiting] of this.gates) {
                if (!key.startsWith(`${msg.submission_id}/`)) continue;
                this.gates.delete(key);
                for (const wake of waiting) wake();
            }
        });
        socket.on('connect', () => this.record('connect', socket.id));
        socket.on('disconnect', (reason) => this.record('disconnect', reason));
        return new Promise((resolve, reject) => {
            const done = (err) => {
                clearTimeout(timer);
                socket.off('connect', onConnect);
                socket.off('connect_error', onError);
                if (err) reject(err);
                else resolve(this);
            };
            const onConnect = () => done();
            const onError = (err) => {
                // A refusal by the server is final; a transport failure is retried by the client.
                if (!this.reconnection || !socket.active) done(err);
            };
            const timer = setTimeout(() => done(new Error(`grader ${this.name} not connected after ${timeout} ms`)), timeout);
            socket.on('connect', onConnect);
            socket.on('connect_error', onError);
        });
    }

    planFor(job) {
        if (typeof this.plan === 'function') return this.plan(job);
        if (Array.isArray(this.plan)) return this.plan;
        if (job.data && Array.isArray(job.data.plan)) return job.data.plan;
        return [{ complete: job.data && typeof job.data.score === 'number' ? job.data.score : 1 }];
    }

    /** Lets the pauses labelled `label` of `submissionId` pass, now and later. */
    resume(submissionId, label = true) {
        const key = `${submissionId}/${label}`;
        this.released.add(key);
        const waiting = this.gates.get(key) || [];
        this.gates.delete(key);
        for (const wake of waiting) wake();
    }

    /** Resolves once `key` is released, or once the job (`cancelledKey`) was cancelled. */
    async gate(key, cancelledKey) {
        while (!this.released.has(key) && !this.cancelled.has(cancelledKey)) {
            await new Promise((resolve) => {
                if (!this.gates.has(key)) this.gates.set(key, []);
                this.gates.get(key).push(resolve);
            });
        }
    }

    /**
     * Sends a report and records it with its ack. While the broker says its queue is unavailable,
     * or the socket dropped before the ack, it is sent again (bounded): what a real grader does.
     */
    async report(event, args, { timeout = WAIT_MS, retryFor = 20000 } = {}) {
        const deadline = Date.now() + retryFor;
        for (;;) {
            let ack;
            try {
                if (!this.socket.connected) await until(() => this.socket.connected, { timeout: retryFor, what: `grader ${this.name} to reconnect` });
                ack = await this.socket.timeout(timeout).emitWithAck(event, args);
            } catch (err) {
                if (/disconnected/.test(err.message) && Date.now() < deadline) continue;
                this.record('report', { event, args, ack: null, error: err.message });
                throw err;
            }
            if (ack && ack.ok === false && ack.code === 'QUEUE_UNAVAILABLE' && Date.now() < deadline) {
                this.record('retry', { event, args, ack });
                await sleep(200);
                continue;
            }
            this.record('report', { event, args, ack });
            return ack;
        }
    }

    async run(job) {
        const sub = job.submission_id;
        const ref = { submission_id: sub, lease_token: job.lease_token };
        const gone = () => this.cancelled.has(`${sub}/${job.lease_token}`);
        for (const step of this.planFor(job)) {
            if (gone()) return;
            if (step.progress !== undefined) {
                const ack = await this.report('progress', { ...ref, percent: step.progress, message: step.message ?? `step ${step.progress}` });
                if (!ack.ok) return;
            } else if (step.info !== undefined) {
                const ack = await this.report('info', { ...ref, message: step.info });
                if (!ack.ok) return;
            } else if (step.pause !== undefined) {
                await this.gate(`${sub}/${step.pause}`, `${sub}/${job.lease_token}`);
            } else if (step.delay !== undefined) {
                await sleep(step.delay);
            } else if (step.ticks !== undefined) {
                for (let i = 1; i <= step.ticks && !gone(); i++) {
                    const ack = await this.report('progress', { ...ref, percent: Math.min(99, i), message: `tick ${i}` });
                    if (!ack.ok) return;
                    await sleep(step.every);
                }
            } else if (step.complete !== undefined) {
                const args = { ...ref, score: step.complete };
                if (step.secondary !== undefined) args.score_secondary = step.secondary;
                await this.report('complete', args);
                return;
            } else if (step.fail !== undefined) {
                await this.report('fail', { ...ref, message: step.fail, retryable: !!step.retryable });
                return;
            } else if (step.hang) {
                return;
            } else if (step.disconnect) {
                this.socket.disconnect();
                return;
            } else {
                throw new Error(`unknown plan step ${JSON.stringify(step)}`);
            }
        }
    }

    jobs(submissionId) {
        return this.rec.list('job', (j) => submissionId === undefined || j.submission_id === submissionId);
    }

    waitJob(submissionId, { attempt, ...opts } = {}) {
        return this.rec.waitFor('job', (j) => j.submission_id === submissionId && (attempt === undefined || j.attempt === attempt),
            { what: `job ${submissionId}${attempt ? ` attempt ${attempt}` : ''}`, ...opts });
    }

    reports(submissionId, event) {
        return this.rec.list('report', (r) => r.args.submission_id === submissionId && (event === undefined || r.event === event));
    }

    waitReport(submissionId, event, opts = {}) {
        return this.rec.waitFor('report', (r) => r.args.submission_id === submissionId && r.event === event,
            { what: `${event} report of ${submissionId} acked`, ...opts });
    }

    /** How many `complete` reports for `submissionId` were acked ok:true. */
    completeOks(submissionId) {
        return this.reports(submissionId, 'complete').filter((r) => r.ack && r.ack.ok === true).length;
    }

    errors() {
        return this.rec.list('error');
    }

    close() {
        if (this.socket) this.socket.close();
    }
}

/**
 * The same scripted grader in a separate node process (tests/e2e/grader-child.mjs), so that it
 * can be killed with SIGKILL or stopped with SIGSTOP. Its records arrive as JSON lines; commands
 * (resume, report) go in on stdin.
 */
export class ChildGrader {
    constructor(url, opts) {
        this.opts = { url, ...opts };
        this.name = opts.name || 'child-grader';
        this.rec = new Recorder(`child grader ${this.name}`);
        this.proc = null;
        this.stderr = '';
    }

    async start({ timeout = WAIT_MS } = {}) {
        const proc = spawn(process.execPath, [path.join(here, 'grader-child.mjs'), JSON.stringify(this.opts)], {
            stdio: ['pipe', 'pipe', 'pipe'],
        });
        this.proc = proc;
        livePids.add(proc.pid);
        proc.on('exit', () => livePids.delete(proc.pid));
        proc.stderr.on('data', (d) => {
            this.stderr += d.toString();
        });
        proc.stdin.on('error', () => {});
        let buf = '';
        proc.stdout.on('data', (d) => {
            buf += d.toString();
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, nl);
                buf = buf.slice(nl + 1);
                if (!line.trim()) continue;
                const { kind, value } = JSON.parse(line);
                this.rec.push(kind, value);
            }
        });
        const exited = new Promise((_, reject) => proc.once('exit', (code, sig) =>
            reject(new Error(`child grader ${this.name} exited (${code ?? sig}) before connecting:\n${this.stderr}`))));
        exited.catch(() => {});
        await Promise.race([this.rec.waitFor('ready', () => true, { timeout, what: 'the child grader to connect' }), exited]);
        return this;
    }

    get pid() {
        return this.proc.pid;
    }

    signal(sig) {
        this.proc.kill(sig);
    }

    async kill9() {
        this.proc.kill('SIGKILL');
        await waitExit(this.proc, WAIT_MS);
    }

    command(cmd) {
        this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    }

    resume(submissionId) {
        this.command({ cmd: 'resume', submission_id: submissionId });
    }

    /** Has the child send a report itself (for instance a late complete with its old token). */
    report(event, args) {
        this.command({ cmd: 'report', event, args });
    }

    jobs(submissionId) {
        return this.rec.list('job', (j) => submissionId === undefined || j.submission_id === submissionId);
    }

    waitJob(submissionId, opts = {}) {
        return this.rec.waitFor('job', (j) => j.submission_id === submissionId, { what: `job ${submissionId}`, ...opts });
    }

    reports(submissionId, event) {
        return this.rec.list('report', (r) => r.args.submission_id === submissionId && (event === undefined || r.event === event));
    }

    waitReport(submissionId, event, opts = {}) {
        return this.rec.waitFor('report', (r) => r.args.submission_id === submissionId && r.event === event,
            { what: `${event} report of ${submissionId} acked`, ...opts });
    }

    completeOks(submissionId) {
        return this.reports(submissionId, 'complete').filter((r) => r.ack && r.ack.ok === true).length;
    }

    errors() {
        return this.rec.list('error');
    }

    async close() {
        if (!this.proc) return;
        if (this.proc.exitCode === null && this.proc.signalCode === null) {
            this.proc.kill('SIGCONT');
            this.proc.kill('SIGKILL');
        }
        await waitExit(this.proc, WAIT_MS);
    }
}

// ---------------------------------------------------------------------------------------------
// One test file's world: data directory, seeding, broker, clients, cleanup

export class Env {
    constructor(dir) {
        this.dir = dir;
        this.broker = null;
        this.clients = new Set();
        this.graderKey = undefined;
        this.everyParticipant = []; // kept after their sockets close, for file-wide checks
        this.everyGrader = [];
    }

    get url() {
        return this.broker.url;
    }

    admin(...args) {
        return runAdmin(this.dir, args);
    }

    async addParticipant(name) {
        const p = parseParticipantAdd(await this.admin('participant', 'add', name, '--json'));
        return { ...p, name };
    }

    async addGraderKey(name) {
        return parseGraderKey(await this.admin('grader-key', 'add', name, '--json'));
    }

    /** challenge create; primary/secondary as 'name:asc|desc'. */
    async createChallenge(id, { title = `Challenge ${id}`, pool, primary = 'score:desc', secondary, timeLimit, maxAttempts, precision } = {}) {
        const args = ['challenge', 'create', id, '--title', title, '--pool', pool || id, '--primary', primary];
        if (secondary) args.push('--secondary', secondary);
        if (precision !== undefined) args.push('--precision', String(precision));
        if (timeLimit !== undefined) args.push('--time-limit', String(timeLimit));
        if (maxAttempts !== undefined) args.push('--max-attempts', String(maxAttempts));
        return this.admin(...args);
    }

    /** round add; start/end as ms offsets from now (defaults: opened an hour ago, ends in a day). */
    async addRound(challenge, n, { start = -HOUR, end = DAY, limit, period, refund, parallel, minScore, late } = {}) {
        const args = ['round', 'add', challenge, String(n), '--start', isoIn(start), '--end', isoIn(end)];
        if (limit !== undefined) args.push('--limit', String(limit));
        if (period !== undefined) args.push('--period', period);
        if (refund !== undefined) args.push('--refund', String(refund));
        if (parallel !== undefined) args.push('--parallel', String(parallel));
        if (minScore !== undefined) args.push('--min-score', String(minScore));
        if (late !== undefined) args.push('--late', late ? 'yes' : 'no');
        return this.admin(...args);
    }

    async adminLeaderboard(challenge) {
        return parseLeaderboardJson(await this.admin('leaderboard', challenge, '--json'));
    }

    async adminSubmissions() {
        return parseSubmissionsJson(await this.admin('submissions', '--limit', '0', '--json'));
    }

    async startBroker(args = FAST_TIMINGS) {
        this.broker = new Broker(this.dir, args);
        await this.broker.start();
        return this.broker;
    }

    /** A connected, authenticated participant (`who` from addParticipant). */
    async participant(who, challengeId, { reconnection = false, authenticate = true } = {}) {
        const p = new Participant(this.url, { apiKey: who.apiKey, challengeId, name: who.name, reconnection });
        this.clients.add(p);
        this.everyParticipant.push(p);
        await p.connect();
        if (authenticate) {
            const ack = await p.authenticate();
            assert.equal(ack.ok, true, `authenticate ${who.name} on ${challengeId}: ${JSON.stringify(ack)}`);
        }
        return p;
    }

    /** A connected in-process scripted grader. */
    async grader(opts) {
        const g = new ScriptedGrader(this.url, { key: this.graderKey, ...opts });
        this.clients.add(g);
        this.everyGrader.push(g);
        await g.connect();
        return g;
    }

    /** A connected scripted grader in its own process. */
    async childGrader(opts) {
        const g = new ChildGrader(this.url, { key: this.graderKey, ...opts });
        this.clients.add(g);
        this.everyGrader.push(g);
        await g.start();
        return g;
    }

    /**
     * Every submission acked to a participant of this file is in a final state in the registry;
     * each COMPLETE one has a score and exactly one complete acked ok:true by the graders, the
     * others none.
     */
    async assertAllFinal() {
        const acked = new Set(this.everyParticipant.flatMap((p) => [...p.acked]));
        assert.ok(acked.size > 0, 'some submissions were acked');
        const rows = await until(async () => {
            const all = (await this.adminSubmissions()).filter((r) => acked.has(r.id));
            return all.length === acked.size && all.every((r) => FINAL_STATES.has(r.state)) ? all : undefined;
        }, { what: `all ${acked.size} acked submissions to be final in the registry`, timeout: 15000 })
            .catch(async (err) => {
                const all = (await this.adminSubmissions()).filter((r) => acked.has(r.id));
                throw new Error(`${err.message}\nregistry: ${JSON.stringify(all.map((r) => [r.id, r.state, r.score]))}`);
            });
        const wrong = [];
        for (const r of rows) {
            const oks = completeOks(this.everyGrader, r.id);
            if (r.state === 'COMPLETE' && (typeof r.score !== 'number' || oks !== 1)) wrong.push([r.id, r.state, r.score, oks]);
            if (r.state !== 'COMPLETE' && (r.score !== null || oks !== 0)) wrong.push([r.id, r.state, r.score, oks]);
        }
        assert.deepEqual(wrong, [], '[id, state, score, complete acks ok] that break exactly-once');
        return rows;
    }

    /**
     * Runs `body`; when it fails, adds what the graders saw and the end of the broker's log to
     * the error, so that a failure can be understood from the test report alone.
     */
    async explain(body) {
        try {
            return await body();
        } catch (err) {
            const lines = [];
            for (const g of this.everyGrader) {
                for (const { kind, value } of g.rec.items) {
                    if (kind === 'connect' || kind === 'ready') continue;
                    const v = kind === 'job' ? { submission_id: value.submission_id, attempt: value.attempt, lease_token: value.lease_token } : value;
                    lines.push(`  grader ${g.name} ${kind} ${JSON.stringify(v).slice(0, 300)}`);
                }
            }
            const log = this.broker ? this.broker.stderr().split('\n').filter((l) => l && !/connect failed/.test(l)).slice(-40) : [];
            err.message += `\n--- graders ---\n${lines.join('\n')}\n--- broker log (end) ---\n${log.join('\n')}`;
            throw err;
        }
    }

    async closeClients() {
        const all = [...this.clients];
        this.clients.clear();
        await Promise.all(all.map((c) => c.close()));
    }

    /**
     * Stops everything: clients, the broker (SIGTERM), any redis-server still serving the data
     * directory (SIGKILL), then removes the directory (kept when E2E_KEEP is set). Throws, after
     * cleaning up, when the broker printed a sanitizer report or left its redis-server running
     * after a graceful stop.
     */
    async cleanup() {
        const problems = [];
        await this.closeClients().catch((err) => problems.push(err.message));
        if (this.broker) {
            const wasRunning = this.broker.running;
            // redis-servers left by an earlier life of the broker (after a kill -9) are not this
            // one's to stop: the test that killed it reports them; they are killed here.
            for (const pid of redisPids(this.dir)) if (parentPid(pid) !== this.broker.pid) killQuietly(pid);
            await this.broker.stop();
            if (wasRunning) {
                // A graceful stop stops its redis-server too: give it a moment, then check.
                const left = await until(() => redisPids(this.dir).length === 0, { timeout: 5000, what: 'redis-server to stop' })
                    .then(() => [], () => redisPids(this.dir));
                if (left.length) problems.push(`redis-server ${left.join(',')} still ran after the broker stopped gracefully`);
            }
        }
        for (const pid of redisPids(this.dir)) killQuietly(pid);
        await until(() => redisPids(this.dir).length === 0, { timeout: 5000, what: 'redis-server to die' }).catch((e) => problems.push(e.message));
        liveDirs.delete(this.dir);
        if (process.env.E2E_KEEP) process.stderr.write(`e2e data kept in ${this.dir}\n`);
        else fs.rmSync(this.dir, { recursive: true, force: true });
        if (this.broker) this.broker.checkSanitizers();
        if (problems.length) throw new Error(problems.join('\n'));
    }
}

/** A fresh data directory, seeded by `seed(env)` before the broker starts with `brokerArgs`. */
export async function createEnv({ brokerArgs = FAST_TIMINGS, seed } = {}) {
    // Short path: the private redis-server's unix socket path is limited to about 100 bytes.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-'));
    liveDirs.add(dir);
    const env = new Env(dir);
    try {
        env.graderKey = await env.addGraderKey('e2e-graders');
        if (seed) await seed(env);
        await env.startBroker(brokerArgs);
    } catch (err) {
        await env.cleanup().catch(() => {});
        throw err;
    }
    return env;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
        srv.on('error', reject);
    });
}

/** A client_submission_id unique in this run. */
let serial = 0;
export function cid(tag = 'sub') {
    serial += 1;
    return `${tag}-${process.pid}-${serial}`;
}

/** The sum over graders of complete acks that were ok:true for `submissionId`. */
export function completeOks(graders, submissionId) {
    return graders.reduce((n, g) => n + g.completeOks(submissionId), 0);
}

/**
 * Waits until the graders' complete for `submissionId` was acked ok:true (the participant may
 * see COMPLETE before the grader sees its ack), then asserts it was exactly once.
 */
export async function assertScoredOnce(graders, submissionId) {
    await until(() => completeOks(graders, submissionId) >= 1, { what: `a complete of ${submissionId} acked ok:true` });
    assert.equal(completeOks(graders, submissionId), 1, `exactly one complete of ${submissionId} acked ok:true`);
}
