// Shared fixtures of the bad-input suite: the server under test with small limits, the well-behaved
// socket.io-client that must survive every file, fd counting from /proc and a bounded batch runner.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { startServer, serverKind } from '../lib/server.mjs';

export { serverKind };

/**
 * Long heartbeats and connect timeout, so that no raw session is closed by a timer while a test looks at it:
 * any close a test observes comes from the bad input.
 */
export const QUIET_TIMERS = ['--ping-interval', '20000', '--ping-timeout', '10000', '--connect-timeout', '30000'];

/** The options tests/interop/reference-server.mjs understands; it exits on any other. */
const REFERENCE_OPTIONS = new Set([
    '--host', '--port', '--ping-interval', '--ping-timeout', '--max-payload', '--connect-timeout', '--upgrade-timeout',
]);

/**
 * Starts the server under test with QUIET_TIMERS plus `flags`. The reference server does not know the limit
 * flags (it would exit), so they are dropped for it and its own defaults apply: tests of those limits fail there.
 */
export async function startTestServer(flags) {
    const all = [...QUIET_TIMERS, ...flags];
    const args = [];
    for (let i = 0; i < all.length; i += 2) {
        if (serverKind === 'reference' && !REFERENCE_OPTIONS.has(all[i])) continue;
        args.push(all[i], all[i + 1]);
    }
    return startServer(args);
}

/**
 * Connects a socket.io-client 4.8.4 client over WebSocket with reconnection off, and records every disconnect.
 * `check(label)` asserts it was never disconnected (same socket id, same transport) and does a
 * `message-with-ack` round trip.
 */
export async function connectGoodClient(url) {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5000 });
    const disconnects = [];
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('good client did not connect within 5 s')), 5000);
        socket.once('connect', () => {
            clearTimeout(timer);
            resolve();
        });
        socket.once('connect_error', (e) => {
            clearTimeout(timer);
            reject(e);
        });
    });
    socket.on('disconnect', (reason) => disconnects.push(reason));
    const id = socket.id;
    const engineId = socket.io.engine.id;
    let round = 0;
    return {
        socket,
        async check(label) {
            assert.deepEqual(disconnects, [], `good client was disconnected (during or before "${label}")`);
            assert.equal(socket.connected, true, 'good client no longer connected');
            assert.equal(socket.id, id, 'good client socket id changed');
            assert.equal(socket.io.engine.id, engineId, 'good client Engine.IO session changed');
            assert.equal(socket.io.engine.transport.name, 'websocket');
            round += 1;
            const sent = { label, round, nested: [round, 'x'] };
            const reply = await socket.timeout(5000).emitWithAck('message-with-ack', sent);
            assert.deepEqual(reply, sent, 'good client ack round trip returned something else');
        },
        close() {
            socket.disconnect();
        },
    };
}

/** Asserts the server process has neither exited nor been killed. */
export function assertAlive(server) {
    assert.equal(server.proc.exitCode, null, `server exited with ${server.proc.exitCode}\n${server.stderr()}`);
    assert.equal(server.proc.signalCode, null, `server killed by ${server.proc.signalCode}\n${server.stderr()}`);
    process.kill(server.proc.pid, 0);
}

/** Number of open file descriptors of process `pid`. */
export function fdCount(pid) {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits (at most 3 s) until two readings 200 ms apart agree, and returns that fd count. */
async function settledFdCount(pid) {
    let last = fdCount(pid);
    for (let i = 0; i < 15; i++) {
        await sleep(200);
        const now = fdCount(pid);
        if (now === last) return now;
        last = now;
    }
    return last;
}

/** Runs task(i) for i in [0, count) with at most `concurrency` at a time; rethrows the first failure. */
export async function runBounded(count, concurrency, task) {
    let next = 0;
    const worker = async () => {
        while (next < count) {
            const i = next++;
            await task(i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Takes the server's fd count, runs `count` bad connections (`badConnection(i)` must resolve once its
 * connection is closed), then polls for up to 10 s until the count is back within `margin` of the baseline.
 */
export async function assertNoFdLeak(server, badConnection, { count = 50, concurrency = 5, margin = 3 } = {}) {
    const pid = server.proc.pid;
    const baseline = await settledFdCount(pid);
    await runBounded(count, concurrency, badConnection);
    let now = fdCount(pid);
    for (let i = 0; i < 50 && now > baseline + margin; i++) {
        await sleep(200);
        now = fdCount(pid);
    }
    assert.ok(now <= baseline + margin,
        `server fds: ${baseline} before ${count} bad connections, still ${now} 10 s after them`);
}
