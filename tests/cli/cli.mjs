// Fixtures for the `crowdai` command line tests: a private home directory per user of the
// command line (its configuration file and record of submissions live there), runs of the
// binary with bounded waits, its JSON lines parsed, and live runs whose lines can be awaited.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder, WAIT_MS } from '../e2e/harness.mjs';
import { checkSanitizers } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

export const CLI_BIN = path.resolve(process.env.CLI_BIN || path.join(root, 'build/debug/bin/crowdai'));

/** Exit statuses, as docs/cli.md documents them. */
export const EXIT = { OK: 0, FAILED: 1, REFUSED: 2, CONNECTION: 3, LOCAL: 4, USAGE: 64, INTERRUPTED: 130 };

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

/** The JSON objects of a --json run's stdout, one per line; every line must be one. */
export function jsonLines(stdout) {
    return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
        try {
            return JSON.parse(l);
        } catch {
            throw new Error(`not a JSON line: ${JSON.stringify(l)}\nin:\n${stdout}`);
        }
    });
}

/** The SHA-256 of a buffer or string, in hex. */
export function sha256(data) {
    return crypto.createHash('sha256').update(data).digest('hex');
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
export function closedPort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

function describe(r) {
    return `crowdai ${r.args.join(' ')} -> ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
}

/** A finished run: exit code, output, and its JSON lines when asked for. */
export class CliResult {
    constructor(args, code, signal, stdout, stderr) {
        Object.assign(this, { args, code, signal, stdout, stderr });
    }

    get lines() {
        return jsonLines(this.stdout);
    }

    /** The JSON lines of `kind`. */
    kind(kind) {
        return this.lines.filter((l) => l.kind === kind);
    }

    /** The only JSON line of `kind`. */
    one(kind) {
        const found = this.kind(kind);
        assert.equal(found.length, 1, `one '${kind}' line in ${describe(this)}`);
        return found[0];
    }

    /** Asserts the exit code, with the whole output in the message. */
    exits(code) {
        assert.equal(this.code, code, `exit status ${code} expected: ${describe(this)}`);
        return this;
    }

    toString() {
        return describe(this);
    }
}

/** A run still going: its stdout lines are recorded as they come ('line', parsed JSON). */
export class CliRun {
    constructor(args, proc) {
        this.args = args;
        this.proc = proc;
        this.stdout = '';
        this.stderr = '';
        this.rec = new Recorder(`crowdai ${args[0]}`);
        let partial = '';
        proc.stdout.on('data', (d) => {
            this.stdout += d.toString();
            partial += d.toString();
            let nl;
            while ((nl = partial.indexOf('\n')) >= 0) {
                const line = partial.slice(0, nl);
                partial = partial.slice(nl + 1);
                if (line.trim() === '') continue;
                let value;
                try {
                    value = JSON.parse(line);
                } catch {
                    value = { kind: 'not-json', text: line };
                }
                this.rec.push('line', value);
            }
        });
        proc.stderr.on('data', (d) => {
            this.stderr += d.toString();
        });
        this.exited = new Promise((resolve, reject) => {
            proc.on('error', (err) => {
                live.delete(proc);
                reject(new Error(`cannot run ${CLI_BIN}: ${err.message} (set CLI_BIN)`));
            });
            proc.on('exit', (code, signal) => {
                live.delete(proc);
                resolve(new CliResult(args, code, signal, this.stdout, this.stderr));
            });
        });
    }

    get pid() {
        return this.proc.pid;
    }

    /** Resolves with the first recorded line that passes pred. */
    waitLine(pred, what, opts = {}) {
        return this.rec.waitFor('line', pred, { what, timeout: 20000, ...opts });
    }

    signal(sig) {
        this.proc.kill(sig);
    }

    /** Resolves with the CliResult once it exits; kills it and fails after `timeout` ms. */
    async done({ timeout = 60000 } = {}) {
        let timer;
        const late = new Promise((_, reject) => {
            timer = setTimeout(() => {
                this.proc.kill('SIGKILL');
                reject(new Error(`crowdai ${this.args.join(' ')} still ran after ${timeout} ms\n` +
                    `--- stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}`));
            }, timeout);
        });
        try {
            const r = await Promise.race([this.exited, late]);
            checkSanitizers(r.stderr);
            return r;
        } finally {
            clearTimeout(timer);
        }
    }
}

/**
 * One user of the command line: a private HOME (nothing of the tester's environment leaks
 * in: CROWDAI_* and XDG_* are removed), TZ=UTC so that printed times are predictable.
 */
export class CliUser {
    constructor(name = 'user') {
        this.name = name;
        this.home = fs.mkdtempSync(path.join(os.tmpdir(), `cli-${name}-`));
        this.files = 0;
    }

    env(extra = {}) {
        const env = { ...process.env };
        for (const k of Object.keys(env)) if (/^(CROWDAI_|XDG_)/.test(k)) delete env[k];
        env.HOME = this.home;
        env.TZ = 'UTC';
        for (const [k, v] of Object.entries(extra)) {
            if (v === undefined) delete env[k];
            else env[k] = v;
        }
        return env;
    }

    /** Writes a file in the home directory; returns its path. */
    file(name, content) {
        const p = path.join(this.home, name);
        fs.writeFileSync(p, content);
        return p;
    }

    /** A prediction file whose content no other test uses. */
    predictions(tag = 'pred') {
        this.files += 1;
        const name = `${tag}-${this.files}.csv`;
        const unique = `${path.basename(this.home)}-${this.files}`;
        return { path: this.file(name, `id,value\n1,${tag}\n2,${unique}\n`), name };
    }

    /** Starts crowdai with args; returns a CliRun. */
    start(args, { env = {}, stdin = 'ignore' } = {}) {
        const proc = spawn(CLI_BIN, args, { env: this.env(env), cwd: this.home, stdio: [stdin, 'pipe', 'pipe'] });
        live.add(proc);
        return new CliRun(args, proc);
    }

    /** Runs crowdai to its end; resolves with a CliResult (bounded). */
    async run(args, { env = {}, input, timeout = 60000 } = {}) {
        const r = this.start(args, { env, stdin: input === undefined ? 'ignore' : 'pipe' });
        if (input !== undefined) r.proc.stdin.end(input);
        return r.done({ timeout });
    }

    cleanup() {
        fs.rmSync(this.home, { recursive: true, force: true });
    }
}

/** The submission_event lines of a run, without their "kind". */
export function eventsOf(lines) {
    return lines.filter((l) => l.kind === 'event').map(({ kind, ...ev }) => ev);
}

export { WAIT_MS };
