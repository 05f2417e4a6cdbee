// Wire-level helpers for the conformance tests: raw HTTP long-polling sessions, WebSockets whose
// incoming frames are queued from the moment they open, and Engine.IO payload framing (v4 and v3).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import WebSocket from 'ws';
import { startServer } from '../lib/server.mjs';

export { sleep };

/** Record separator between packets of an EIO=4 polling payload. */
export const RS = '\x1e';

/** Default bound, in ms, on every single wait of the suites. */
export const WAIT_MS = 3000;

// One keep-alive agent per test process, like a real client; closeAll() destroys it.
const agent = new http.Agent({ keepAlive: true });
const liveSockets = new Set();

/** Destroys every HTTP connection and WebSocket this module opened. Call it in `after()`. */
export function closeAll() {
    for (const client of liveSockets) client.ws.terminate();
    liveSockets.clear();
    agent.destroy();
}

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function within(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One HTTP request. Resolves to `{status, headers, body (Buffer), text}` once the whole
 * response has arrived; rejects on a network error or after `timeoutMs`. `fresh` uses a new
 * connection that is not reused afterwards.
 */
export function httpRequest(url, { method = 'GET', body, headers = {}, timeoutMs = WAIT_MS, fresh = false } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, agent: fresh ? false : agent });
        const timer = setTimeout(() => {
            req.destroy();
            reject(new Error(`${method} ${url}: no complete response within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('response', (res) => {
            const chunks = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('error', (err) => {
                clearTimeout(timer);
                reject(err);
            });
            res.on('end', () => {
                clearTimeout(timer);
                const data = Buffer.concat(chunks);
                resolve({ status: res.statusCode, headers: res.headers, body: data, text: data.toString('utf8') });
            });
        });
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.end(body);
    });
}

/**
 * Sends a WebSocket upgrade request by hand and reports what came back: `{status: 101}` when the
 * server switched protocols (the connection is then dropped), else `{status, text}`.
 */
export function upgradeRequest(url, timeoutMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
        const req = http.request(url, {
            agent: false,
            headers: {
                Connection: 'Upgrade',
                Upgrade: 'websocket',
                'Sec-WebSocket-Version': '13',
                'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
            },
        });
        const timer = setTimeout(() => {
            req.destroy();
            reject(new Error(`upgrade ${url}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('upgrade', (res, socket) => {
            clearTimeout(timer);
            socket.destroy();
            resolve({ status: res.statusCode });
        });
        req.on('response', (res) => {
            const chunks = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('end', () => {
                clearTimeout(timer);
                resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') });
            });
        });
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.end();
    });
}

/** Parses the body of a JSON error answer and returns its `code`. */
export function errorCode(res) {
    let parsed;
    try {
        parsed = JSON.parse(res.text);
    } catch {
        assert.fail(`error body is not JSON: ${JSON.stringify(res.text)}`);
    }
    assert.equal(typeof parsed.message, 'string', `error body lacks a message: ${res.text}`);
    return parsed.code;
}

// ---- Payload framing -----------------------------------------------------------------------
// Packets are JS strings (text packets, type digit included) or Buffers (binary packets).
// EIO=4 binary packets are the bare data. EIO=3 binary packets keep their type byte in front
// (0x04 for a message), exactly as they travel in an EIO=3 WebSocket frame.

/** EIO=4: packets joined by \x1e, binary ones as `b<base64>`. */
export function encodeV4(packets) {
    return packets.map((p) => (Buffer.isBuffer(p) ? 'b' + p.toString('base64') : p)).join(RS);
}

export function decodeV4(text) {
    if (text === '') return [];
    return text.split(RS).map((p) => (p.startsWith('b') ? Buffer.from(p.slice(1), 'base64') : p));
}

/** EIO=3 text framing: `<length>:<packet>` with the length in UTF-16 code units. */
export function encodeV3Text(packets) {
    return packets
        .map((p) => {
            const s = Buffer.isBuffer(p) ? `b${p[0]}${p.subarray(1).toString('base64')}` : p;
            return `${s.length}:${s}`;
        })
        .join('');
}

export function decodeV3Text(text) {
    const packets = [];
    let i = 0;
    while (i < text.length) {
        const colon = text.indexOf(':', i);
        assert.ok(colon > i, `EIO3 text payload: no length at offset ${i} of ${JSON.stringify(text)}`);
        const digits = text.slice(i, colon);
        assert.match(digits, /^\d+$/, `EIO3 text payload: bad length ${JSON.stringify(digits)}`);
        const len = Number(digits);
        const packet = text.slice(colon + 1, colon + 1 + len);
        assert.equal(packet.length, len, `EIO3 text payload: truncated packet in ${JSON.stringify(text)}`);
        if (packet.startsWith('b')) {
            packets.push(Buffer.concat([Buffer.from([Number(packet[1])]), Buffer.from(packet.slice(2), 'base64')]));
        } else {
            packets.push(packet);
        }
        i = colon + 1 + len;
    }
    return packets;
}

function lengthDigits(n) {
    return [...String(n)].map(Number);
}

/** EIO=3 binary (XHR2) framing: 0x00|0x01, decimal length one digit per byte, 0xFF, bytes. */
export function encodeV3Binary(packets) {
    return Buffer.concat(
        packets.map((p) => {
            const data = Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8');
            const kind = Buffer.isBuffer(p) ? 1 : 0;
            return Buffer.concat([Buffer.from([kind, ...lengthDigits(data.length), 0xff]), data]);
        }),
    );
}

export function decodeV3Binary(buf) {
    const packets = [];
    let i = 0;
    while (i < buf.length) {
        const kind = buf[i];
        assert.ok(kind === 0 || kind === 1, `XHR2 payload: packet kind byte ${kind} at offset ${i}`);
        let j = i + 1;
        let digits = '';
        while (j < buf.length && buf[j] !== 0xff) {
            assert.ok(buf[j] <= 9, `XHR2 payload: length byte ${buf[j]} is not a digit value`);
            digits += String(buf[j]);
            j++;
        }
        assert.ok(j < buf.length && digits.length > 0, `XHR2 payload: no 0xFF after the length at ${i}`);
        const len = Number(digits);
        const data = buf.subarray(j + 1, j + 1 + len);
        assert.equal(data.length, len, 'XHR2 payload: truncated packet');
        packets.push(kind === 0 ? data.toString('utf8') : Buffer.from(data));
        i = j + 1 + len;
    }
    return packets;
}

// ---- Long-polling session ------------------------------------------------------------------

/**
 * An Engine.IO session over HTTP long-polling. Every packet a GET brings in goes into a queue;
 * `next()` hands them out one at a time and polls again only when the queue is empty.
 */
export class PollingSession {
    constructor(baseUrl, path, { eio = 4, b64 = false } = {}) {
        this.baseUrl = baseUrl;
        this.path = path;
        this.eio = eio;
        this.b64 = b64;
        this.sid = null;
        this.queue = [];
    }

    url() {
        let q = `EIO=${this.eio}&transport=polling`;
        if (this.b64) q += '&b64=1';
        if (this.sid) q += `&sid=${encodeURIComponent(this.sid)}`;
        return `${this.baseUrl}${this.path}?${q}`;
    }

    /** Handshake GET: checks for an open packet, keeps the rest, returns the parsed handshake. */
    async open(timeoutMs = WAIT_MS) {
        const res = await httpRequest(this.url(), { timeoutMs });
        assert.equal(res.status, 200, `handshake answered ${res.status}: ${res.text}`);
        this.handshakeResponse = res;
        const packets = this.decode(res);
        const first = packets.shift();
        assert.ok(typeof first === 'string' && first.startsWith('0{'), `not an open packet: ${JSON.stringify(first)}`);
        this.handshake = JSON.parse(first.slice(1));
        assert.equal(typeof this.handshake.sid, 'string', 'open packet without a string sid');
        this.sid = this.handshake.sid;
        this.queue.push(...packets);
        return this.handshake;
    }

    /** Decodes a GET response according to the protocol revision and the Content-Type. */
    decode(res) {
        if (this.eio === 4) return decodeV4(res.text);
        if (/^application\/octet-stream/i.test(res.headers['content-type'] || '')) return decodeV3Binary(res.body);
        return decodeV3Text(res.text);
    }

    /** A bare GET on the session; the caller checks the status. */
    get(timeoutMs = WAIT_MS) {
        return httpRequest(this.url(), { timeoutMs });
    }

    /** A bare POST of a ready-made body; the caller checks the status. */
    post(body, { headers = {}, timeoutMs = WAIT_MS, fresh = false } = {}) {
        const defaults = Buffer.isBuffer(body)
            ? { 'Content-Type': 'application/octet-stream' }
            : { 'Content-Type': 'text/plain;charset=UTF-8' };
        const all = { ...defaults, ...headers };
        return httpRequest(this.url(), { method: 'POST', body, headers: all, timeoutMs, fresh });
    }

    /** POSTs packets in this session's framing (`binary` picks the XHR2 framing for EIO=3). */
    async send(packets, { binary = false } = {}) {
        let body;
        if (this.eio === 4) body = encodeV4(packets);
        else body = binary ? encodeV3Binary(packets) : encodeV3Text(packets);
        const res = await this.post(body);
        assert.equal(res.status, 200, `POST answered ${res.status}: ${res.text}`);
        assert.equal(res.text, 'ok');
        return res;
    }

    /** The next packet from the server, polling when none is queued. */
    async next(timeoutMs = WAIT_MS) {
        const deadline = Date.now() + timeoutMs;
        while (this.queue.length === 0) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no packet on session ${this.sid} within ${timeoutMs} ms`);
            const res = await this.get(left);
            assert.equal(res.status, 200, `GET answered ${res.status}: ${res.text}`);
            this.queue.push(...this.decode(res));
        }
        return this.queue.shift();
    }

    /** Like next(), but answers and skips EIO=4 server pings. */
    async nextData(timeoutMs = WAIT_MS) {
        for (;;) {
            const packet = await this.next(timeoutMs);
            if (this.eio === 4 && packet === '2') {
                await this.send(['3']);
                continue;
            }
            return packet;
        }
    }
}

// ---- WebSocket -----------------------------------------------------------------------------

/**
 * A WebSocket client whose messages are queued from the first frame on, so that two packets
 * arriving in one TCP read are never lost. Text frames come out as strings, binary as Buffers.
 */
export class WsClient {
    constructor(url, options = {}) {
        this.url = url;
        this.queue = [];
        this.received = [];
        this.waiters = [];
        this.closeInfo = null;
        this.error = null;
        this.ws = new WebSocket(url, options);
        liveSockets.add(this);
        this.openPromise = new Promise((resolve, reject) => {
            this.ws.once('open', resolve);
            this.ws.once('close', () => reject(new Error(`${url}: closed before it opened (${this.error?.message})`)));
        });
        this.openPromise.catch(() => {});
        this.closePromise = new Promise((resolve) => {
            this.ws.once('close', (code, reason) => {
                liveSockets.delete(this);
                this.closeInfo = { code, reason: reason.toString() };
                for (const w of this.waiters.splice(0)) {
                    clearTimeout(w.timer);
                    w.reject(new Error(`connection closed (code ${code}) while waiting for a message`));
                }
                resolve(this.closeInfo);
            });
        });
        this.ws.on('error', (err) => {
            this.error = err;
        });
        this.ws.on('message', (data, isBinary) => {
            const msg = isBinary ? Buffer.from(data) : data.toString('utf8');
            this.received.push(msg);
            const waiter = this.waiters.shift();
            if (waiter) {
                clearTimeout(waiter.timer);
                waiter.resolve(msg);
            } else {
                this.queue.push(msg);
            }
        });
    }

    opened(timeoutMs = WAIT_MS) {
        return within(this.openPromise, timeoutMs, `opening ${this.url}`);
    }

    /** Resolves to `{code, reason}` once the connection is closed. */
    closed(timeoutMs = WAIT_MS) {
        return within(this.closePromise, timeoutMs, `waiting for ${this.url} to close`);
    }

    get isClosed() {
        return this.closeInfo !== null;
    }

    /** The next message, in arrival order. */
    next(timeoutMs = WAIT_MS) {
        if (this.queue.length) return Promise.resolve(this.queue.shift());
        if (this.closeInfo) {
            const { code } = this.closeInfo;
            return Promise.reject(new Error(`connection closed (code ${code}) while waiting for a message`));
        }
        return new Promise((resolve, reject) => {
            const waiter = { resolve, reject, timer: null };
            waiter.timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                reject(new Error(`no message from ${this.url} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.waiters.push(waiter);
        });
    }

    /** Like next(), but answers and skips EIO=4 server pings. */
    async nextData(timeoutMs = WAIT_MS) {
        for (;;) {
            const msg = await this.next(timeoutMs);
            if (msg !== '2') return msg;
            this.send('3');
        }
    }

    /**
     * Waits for the connection to close while answering EIO=4 pings, so that a ping timeout
     * cannot be what closes it. Resolves to `{pings, others}`: the pings answered and every
     * other message that arrived before the close.
     */
    async closedAnsweringPings(timeoutMs = WAIT_MS) {
        const deadline = Date.now() + timeoutMs;
        const others = [];
        let pings = 0;
        for (;;) {
            let msg;
            try {
                msg = await this.next(Math.max(1, deadline - Date.now()));
            } catch (err) {
                if (this.isClosed) return { pings, others };
                const got = JSON.stringify(others);
                throw new Error(`${this.url} still open after ${timeoutMs} ms (${err.message}); got ${got}`);
            }
            if (msg === '2') {
                pings++;
                this.send('3');
            } else {
                others.push(msg);
            }
        }
    }

    /** Sends a frame; a no-op once the connection is closing, as the peer may close first. */
    send(data) {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
    }

    /** Closes politely; the TCP connection is cut if the server does not finish within 1 s. */
    close() {
        if (this.closeInfo) return;
        this.ws.close();
        setTimeout(() => this.ws.terminate(), 1000).unref();
    }
}

/** Opens a WebSocket-only session and returns `{ws, handshake}` after the open packet. */
export async function openWsSession(wsBase, path, query = 'EIO=4&transport=websocket') {
    const ws = new WsClient(`${wsBase}${path}?${query}`);
    await ws.opened();
    const first = await ws.next();
    assert.ok(typeof first === 'string' && first.startsWith('0{'), `not an open packet: ${JSON.stringify(first)}`);
    return { ws, handshake: JSON.parse(first.slice(1)) };
}

/** The keys of an EIO=4 open packet, sorted. */
export const OPEN_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

/**
 * Starts the server under test before the enclosing describe()'s tests and stops it after
 * them (closing every connection this module opened). Returns an object that holds
 * {url, wsUrl, port, proc, stop} once the tests run.
 */
export function useServer(args = []) {
    const srv = {};
    before(async () => {
        const server = await startServer(args);
        Object.assign(srv, server, { wsUrl: server.url.replace(/^http/, 'ws') });
    });
    after(async () => {
        closeAll();
        if (srv.stop) await srv.stop();
    });
    return srv;
}
