// Shared helpers for the interop suites: event waits with timeouts, client bookkeeping,
// binary-aware comparison, and connection helpers for socket.io-client 4.x and 2.x.
import assert from 'node:assert/strict';
import { io as ioV4, Manager as ManagerV4 } from 'socket.io-client';
import ioV2 from 'socket.io-client-v2';

/** Default limit for any single wait, in milliseconds. */
export const WAIT_MS = 5000;

/** Timings for suites that are not about heartbeats. */
export const SANE_TIMINGS = ['--ping-interval', '25000', '--ping-timeout', '20000'];

/** The three transport set-ups every client is exercised with. */
export const MODES = [
    { name: 'polling only', transports: ['polling'], expected: 'polling' },
    { name: 'websocket only', transports: ['websocket'], expected: 'websocket' },
    { name: 'polling then upgrade', transports: undefined, expected: 'websocket' },
];

function describeArgs(args) {
    try {
        return JSON.stringify(args, (k, v) => (v instanceof Error ? { error: v.message } : v));
    } catch {
        return String(args);
    }
}

/**
 * Resolves with the argument array of the next `event` on `emitter` that passes `filter`.
 * Rejects after `timeout` ms, or as soon as one of the `failOn` events fires.
 */
export function waitFor(emitter, event, { timeout = WAIT_MS, failOn = [], filter } = {}) {
    return new Promise((resolve, reject) => {
        const failures = [];
        const cleanup = () => {
            clearTimeout(timer);
            emitter.off(event, onEvent);
            for (const [name, fn] of failures) emitter.off(name, fn);
        };
        const onEvent = (...args) => {
            if (filter && !filter(...args)) return;
            cleanup();
            resolve(args);
        };
        const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`timed out after ${timeout} ms waiting for '${event}'`));
        }, timeout);
        emitter.on(event, onEvent);
        for (const name of failOn) {
            const fn = (...args) => {
                cleanup();
                reject(new Error(`'${name}' ${describeArgs(args)} while waiting for '${event}'`));
            };
            failures.push([name, fn]);
            emitter.on(name, fn);
        }
    });
}

/**
 * Resolves with the argument arrays of the next `count` occurrences of `event`.
 * Rejects after `timeout` ms with how many had arrived.
 */
export function collect(emitter, event, count, { timeout = WAIT_MS } = {}) {
    return new Promise((resolve, reject) => {
        const seen = [];
        const onEvent = (...args) => {
            seen.push(args);
            if (seen.length < count) return;
            clearTimeout(timer);
            emitter.off(event, onEvent);
            resolve(seen);
        };
        const timer = setTimeout(() => {
            emitter.off(event, onEvent);
            reject(new Error(`timed out after ${timeout} ms: ${seen.length}/${count} '${event}'`));
        }, timeout);
        emitter.on(event, onEvent);
    });
}

/** Records every occurrence of `event` from now on; `stop()` detaches. */
export function record(emitter, event) {
    const seen = [];
    const fn = (...args) => seen.push(args);
    emitter.on(event, fn);
    return { seen, stop: () => emitter.off(event, fn) };
}

/**
 * Emits `event` with `args` and an ack callback; resolves with the ack's argument array.
 * Works with both client generations. Rejects after `timeout` ms.
 */
export function emitAck(socket, event, args = [], { timeout = WAIT_MS } = {}) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            reject(new Error(`no ack for '${event}' within ${timeout} ms`));
        }, timeout);
        socket.emit(event, ...args, (...reply) => {
            clearTimeout(timer);
            resolve(reply);
        });
    });
}

/**
 * A full round trip through the server on `socket`: an acked echo whose reply must match.
 * Used as a barrier: anything the server queued for this socket before it handled the
 * echo has been delivered when this resolves.
 */
export async function roundTrip(socket, tag = 'barrier') {
    const token = `${tag}-${Math.random().toString(36).slice(2)}`;
    const reply = await emitAck(socket, 'message-with-ack', [token]);
    assert.deepEqual(reply, [token], 'round trip echo');
}

/** Converts every binary value (Buffer, ArrayBuffer, typed array) to `{binary: hex}`. */
export function normalize(value) {
    if (value instanceof ArrayBuffer) return { binary: Buffer.from(value).toString('hex') };
    if (ArrayBuffer.isView(value)) {
        const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        return { binary: bytes.toString('hex') };
    }
    if (Array.isArray(value)) return value.map(normalize);
    if (value && typeof value === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
        return out;
    }
    return value;
}

/** Asserts that `actual` equals `expected`, binary values compared by content. */
export function assertSameData(actual, expected, message) {
    assert.deepStrictEqual(normalize(actual), normalize(expected), message);
}

/** Keeps track of clients so a suite can close them all in `afterEach`/`after`. */
export class ClientPool {
    constructor() {
        this.sockets = new Set();
    }

    add(socket) {
        this.sockets.add(socket);
        return socket;
    }

    closeAll() {
        for (const socket of this.sockets) {
            try {
                socket.disconnect();
                socket.io.disconnect();
            } catch {
                // already closed; nothing to release
            }
        }
        this.sockets.clear();
    }
}

/** Options shared by every client: no caching between tests, no surprise reconnects. */
function baseOptions(transports, extra) {
    const opts = { forceNew: true, reconnection: false, timeout: WAIT_MS, ...extra };
    if (transports) opts.transports = transports;
    return opts;
}

/** Creates (does not await) a socket.io-client 4.8.4 socket for `url` + `nsp`. */
export function newV4(pool, url, { nsp = '/', transports, auth, ...extra } = {}) {
    const opts = baseOptions(transports, extra);
    if (auth !== undefined) opts.auth = auth;
    return pool.add(ioV4(url + nsp, opts));
}

/** Creates (does not await) a socket.io-client 2.5.0 socket for `url` + `nsp`. */
export function newV2(pool, url, { nsp = '/', transports, ...extra } = {}) {
    return pool.add(ioV2(url + nsp, baseOptions(transports, extra)));
}

/** Another namespace on the same Manager (same Engine.IO session) as `socket`. */
export function sibling(pool, socket, nsp, opts) {
    return pool.add(socket.io.socket(nsp, opts));
}

/**
 * Waits until `socket` is connected and the server's `auth` greeting arrived; resolves with
 * the echoed auth object. Rejects on `connect_error`/`error` or after `timeout` ms.
 */
export async function connected(socket, { timeout = WAIT_MS } = {}) {
    const failOn = ['connect_error', 'error'];
    const [, [auth]] = await Promise.all([
        socket.connected ? Promise.resolve([]) : waitFor(socket, 'connect', { timeout, failOn }),
        waitFor(socket, 'auth', { timeout, failOn }),
    ]);
    return auth;
}

/** Waits for a refused connection; resolves with the error argument. */
export async function refused(socket, { timeout = WAIT_MS } = {}) {
    const [err] = await waitFor(socket, 'connect_error', { timeout, failOn: ['connect'] });
    return err;
}

/** Resolves once the Engine.IO session under `socket` runs over WebSocket. */
export async function upgraded(socket, { timeout = WAIT_MS } = {}) {
    const engine = socket.io.engine;
    if (engine.transport.name !== 'websocket') await waitFor(engine, 'upgrade', { timeout });
    return engine.transport.name;
}

/**
 * Resolves when the Engine.IO client session currently under `socket` has closed. The 2.x
 * Manager loses a new session opened before the old one finished closing, so v2 tests wait
 * for this between a disconnect and connect().
 */
export function engineClosed(socket, { timeout = WAIT_MS } = {}) {
    const engine = socket.io.engine;
    if (!engine || engine.readyState === 'closed') return Promise.resolve();
    return waitFor(engine, 'close', { timeout });
}

/** A string of `size` characters made of a repeating, position-dependent pattern. */
export function bigString(size) {
    const unit = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    while (s.length < size) s += `${s.length}:${unit}|`;
    return s.slice(0, size);
}

/** Bytes 0..n-1 with a per-call seed so that distinct attachments differ. */
export function bytes(n, seed = 0) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
    return b;
}

export { ManagerV4 };
