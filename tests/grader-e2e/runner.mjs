// crowdai-grader under test: the real binary started against an e2e environment's broker
// (tests/e2e/harness.mjs), its log lines recorded, gates its evaluators wait on, and cleanup
// that leaves no process or directory behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSanitizers } from '../lib/server.mjs';
import { Recorder, WAIT_MS, alive, until } from '../e2e/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const GRADER_BIN = process.env.GRADER_BIN || path.join(root, 'build/debug/bin/crowdai-grader');
export const EVALUATORS = path.join(here, 'evaluators');
export const EVAL_LIB = path.join(root, 'tests/grader/evaluators');
export const EXAMPLES = path.join(root, 'docs/examples');

const live = new Set();
process.on('exit', () => {
    for (const proc of live) {
        try {
            proc.kill('SIGKILL');
        } catch {
            // gone already
        }
    }
});

/** A fresh scratch directory (removed by `removeScratch`). */
export function scratch(tag) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `grader-${tag}-`));
}

export function removeScratch(dir) {
    if (!process.env.E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
}

function waitExit(proc, timeout) {
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout);
        proc.once('exit', () => {
            clearTimeout(timer);
            resolve(true);
        });
    });
}

/**
 * One crowdai-grader process. `command` is the evaluator's argv (after "--"); `args` are more
 * flags. Log lines are recorded as 'log' items ({level, text}); the key comes from the
 * environment, as an organiser would pass it.
 */
export class GraderRunner {
    constructor(env, { name, pools, capacity = 1, command, args = [], key = env.graderKey, url } = {}) {
        this.env = env;
        this.name = name;
        this.url = url;
        this.workdir = scratch(`work-${name}`);
        this.argv = ['--broker', url ?? env.url, '--name', name, '--capacity', String(capacity),
            '--workdir', this.workdir, '--heartbeat', '1s', '--ack-timeout', '3s',
            ...pools.flatMap((p) => ['--pool', p]), ...args, '--', ...command];
        this.key = key;
        this.rec = new Recorder(`crowdai-grader ${name}`);
        this.stderr = '';
        this.proc = null;
    }

    /** Starts it; resolves once it joined /grader (unless `connected` is false). */
    async start({ connected = true } = {}) {
        const proc = spawn(GRADER_BIN, this.argv, {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, CROWDAI_GRADER_KEY: this.key },
        });
        this.proc = proc;
        live.add(proc);
        proc.on('exit', (code, signal) => {
            live.delete(proc);
            this.rec.push('exit', { code, signal });
        });
        let partial = '';
        proc.stderr.on('data', (d) => {
            const text = d.toString();
            this.stderr += text;
            if (process.env.GRADER_LOG) process.stderr.write(`[${this.name}] ${text}`);
            partial += text;
            let nl;
            while ((nl = partial.indexOf('\n')) >= 0) {
                const line = partial.slice(0, nl);
                partial = partial.slice(nl + 1);
                const m = line.match(/^\S+ (error|warn|info|debug) (\S+) (.*)$/);
                this.rec.push('log', m ? { level: m[1], module: m[2], text: m[3] } : { level: 'raw', text: line });
            }
        });
        proc.stdout.resume();
        if (connected) await this.waitLog(/^connected to the broker/);
        return this;
    }

    get pid() {
        return this.proc.pid;
    }

    /** Log lines (text) matching `re`. */
    logs(re) {
        return this.rec.list('log', (l) => re.test(l.text)).map((l) => l.text);
    }

    /** Resolves with the `count`-th log line matching `re`. */
    waitLog(re, { count = 1, timeout = WAIT_MS } = {}) {
        return this.rec.waitFor('log', (l) => re.test(l.text), { what: `log line ${re} (x${count})`, count, timeout })
            .catch((err) => {
                err.message += `\n--- ${this.name} stderr ---\n${this.stderr.slice(-4000)}`;
                throw err;
            });
    }

    /** Resolves with {code, signal} once it exited. */
    waitExit({ timeout = WAIT_MS } = {}) {
        return this.rec.waitFor('exit', () => true, { what: 'the runner to exit', timeout });
    }

    signal(sig) {
        this.proc.kill(sig);
    }

    async kill9() {
        this.proc.kill('SIGKILL');
        await waitExit(this.proc, WAIT_MS);
    }

    /** Job directories left in its work directory. */
    jobDirs() {
        return fs.readdirSync(this.workdir);
    }

    /** SIGTERM (SIGKILL after `grace`); throws on a sanitizer report. Removes the work dir. */
    async stop({ grace = 15000 } = {}) {
        if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
            this.proc.kill('SIGTERM');
            if (!(await waitExit(this.proc, grace))) {
                this.proc.kill('SIGKILL');
                await waitExit(this.proc, WAIT_MS);
            }
        }
        removeScratch(this.workdir);
        checkSanitizers(this.stderr);
    }
}

/** A directory of gate files: an evaluator started with GATE_DIR waits for its gate. */
export class Gates {
    constructor() {
        this.dir = scratch('gates');
    }

    open(name) {
        fs.writeFileSync(path.join(this.dir, name), '');
    }

    remove() {
        removeScratch(this.dir);
    }
}

/** The pids an evaluator announced in its INFO event "pids <evaluator> <child>". */
export async function evaluatorPids(p, submissionId) {
    const ev = await p.waitEvent(submissionId, (e) => e.type === 'INFO' && /^pids \d+ \d+/.test(e.message));
    const [, pid, child] = ev.message.match(/^pids (\d+) (\d+)/);
    return [Number(pid), Number(child)];
}

/** Waits until none of `pids` is a live process. */
export function allGone(pids, what = `processes ${pids} to be gone`) {
    return until(() => pids.every((pid) => !alive(pid)), { what });
}

/** A value of the broker's /metrics. */
export async function metric(env, name) {
    const text = await (await fetch(`${env.url}/metrics`)).text();
    const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    assert.ok(m, `${name} in /metrics`);
    return Number(m[1]);
}

/** Uploads `body` as `name` for participant `p`; resolves with the file_key. */
export async function upload(env, p, name, body) {
    const res = await fetch(`${env.url}/upload?name=${encodeURIComponent(name)}`, {
        method: 'PUT', body, headers: { authorization: `Bearer ${p.token}` },
    });
    const json = await res.json();
    assert.equal(res.status, 200, JSON.stringify(json));
    return json.file_key;
}
