// Starts the server under test (our broker, or the reference Node server when SERVER=reference)
// on a free port and returns its URL; every test suite uses this one helper.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Which implementation the suites run against: 'broker' (default) or 'reference'. */
export const serverKind = process.env.SERVER === 'reference' ? 'reference' : 'broker';

function command(args) {
    if (serverKind === 'reference')
        return ['node', [path.join(root, 'tests/interop/reference-server.mjs'), ...args]];
    const bin = process.env.BROKER_BIN || path.join(root, 'build/debug/bin/crowdai-broker');
    return [bin, args];
}

/**
 * Spawns the server with `--conformance --port 0` plus `extraArgs` and resolves to
 * `{url, port, proc, stop()}` once it printed `READY port=<n>`. Rejects after `timeoutMs`.
 * `stop()` sends SIGTERM and resolves with the exit code (SIGKILL after 5 s).
 */
export function startServer(extraArgs = [], { timeoutMs = 10000 } = {}) {
    const [cmd, args] = command(['--conformance', '--port', '0', ...extraArgs]);
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => {
        stderr += d.toString();
        if (process.env.SERVER_LOG) process.stderr.write(d);
    });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            proc.kill('SIGKILL');
            reject(new Error(`server did not print READY within ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs);
        let out = '';
        proc.stdout.on('data', (d) => {
            out += d.toString();
            const m = out.match(/READY port=(\d+)/);
            if (!m) return;
            clearTimeout(timer);
            const port = Number(m[1]);
            resolve({
                port,
                url: `http://127.0.0.1:${port}`,
                proc,
                stderr: () => stderr,
                stop: () => stopProcess(proc).then((code) => {
                    checkSanitizers(stderr);
                    return code;
                }),
            });
        });
        proc.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        proc.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code} before READY\n${stderr}`));
        });
    });
}

/** Reports printed by ASan, LSan or UBSan: a server that printed one has a bug. */
const SANITIZER_REPORT = /ERROR: (Address|Leak)Sanitizer|runtime error:/;

/** Throws when the server's stderr holds a sanitizer report, so the suite fails on it. */
export function checkSanitizers(stderr) {
    const m = SANITIZER_REPORT.exec(stderr);
    if (m) throw new Error(`the server printed a sanitizer report:\n${stderr.slice(m.index, m.index + 4000)}`);
}

function stopProcess(proc) {
    if (proc.exitCode !== null || proc.signalCode !== null)
        return Promise.resolve(proc.exitCode);
    return new Promise((resolve) => {
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', (code) => {
            clearTimeout(kill);
            resolve(code);
        });
        proc.kill('SIGTERM');
    });
}
