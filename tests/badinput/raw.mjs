// Wire-level tools for the bad-input suite: a raw TCP connection with a byte buffer, an HTTP/1.1
// response reader, a hand-written WebSocket client (any frame, malformed ones included) and Engine.IO helpers.
import net from 'node:net';
import crypto from 'node:crypto';

export const HOST = '127.0.0.1';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The error a wait rejects with when `ms` passed without `what` happening. */
function timeoutError(ms, what) {
    return new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * One TCP connection to the server under test. Incoming bytes accumulate in `buf`; `waitFor` polls a
 * predicate on every change (data, end, error) until it returns something other than undefined.
 */
export class RawConn {
    constructor(sock) {
        this.sock = sock;
        this.buf = Buffer.alloc(0);
        this.ended = false;
        this.error = null;
        this.listeners = new Set();
        sock.on('data', (d) => {
            this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
            this.wake();
        });
        sock.on('end', () => {
            this.ended = true;
            this.wake();
        });
        sock.on('error', (e) => {
            this.error = e;
            this.ended = true;
            this.wake();
        });
        sock.on('close', () => {
            this.ended = true;
            this.wake();
        });
    }

    /** Opens a TCP connection to 127.0.0.1:port. */
    static connect(port, timeoutMs = 5000) {
        return new Promise((resolve, reject) => {
            const sock = net.connect({ host: HOST, port });
            const timer = setTimeout(() => {
                sock.destroy();
                reject(timeoutError(timeoutMs, `TCP connect to port ${port}`));
            }, timeoutMs);
            const onError = (e) => {
                clearTimeout(timer);
                reject(e);
            };
            sock.once('error', onError);
            sock.once('connect', () => {
                clearTimeout(timer);
                sock.removeListener('error', onError);
                resolve(new RawConn(sock));
            });
        });
    }

    wake() {
        for (const fn of [...this.listeners]) fn();
    }

    /** Resolves with the first value other than undefined that `predicate` returns; rejects after timeoutMs. */
    waitFor(predicate, timeoutMs, what) {
        return new Promise((resolve, reject) => {
            let timer = null;
            const check = () => {
                let value;
                try {
                    value = predicate();
                } catch (e) {
                    this.listeners.delete(check);
                    clearTimeout(timer);
                    reject(e);
                    return;
                }
                if (value === undefined) return;
                this.listeners.delete(check);
                clearTimeout(timer);
                resolve(value);
            };
            timer = setTimeout(() => {
                this.listeners.delete(check);
                reject(timeoutError(timeoutMs, what));
            }, timeoutMs);
            this.listeners.add(check);
            check();
        });
    }

    /** Removes and returns the first n buffered bytes. */
    take(n) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return out;
    }

    /**
     * Writes bytes; resolves true once handed to the kernel, false if the connection failed or the peer stopped
     * reading for timeoutMs (a server closing on bad input is not an error here).
     */
    write(data, timeoutMs = 5000) {
        return new Promise((resolve) => {
            if (this.sock.destroyed || !this.sock.writable) {
                resolve(false);
                return;
            }
            const timer = setTimeout(() => resolve(false), timeoutMs);
            this.sock.write(data, (err) => {
                clearTimeout(timer);
                resolve(!err);
            });
        });
    }

    /** Resolves true once the server closed (or reset) the connection; rejects after timeoutMs. */
    waitClosed(timeoutMs = 5000) {
        return this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'the server to close the connection');
    }

    /** Returns true if the server closes the connection within timeoutMs, false if it is still open then. */
    async closesWithin(timeoutMs) {
        try {
            return await this.waitClosed(timeoutMs);
        } catch {
            return false;
        }
    }

    close() {
        this.sock.destroy();
    }
}

/* ------------------------------------------------------------------ HTTP */

/**
 * Builds an HTTP/1.1 request. `headers` is a list of [name, value] pairs (duplicates allowed) that follow the
 * Host header; a Content-Length is added when a body is given.
 */
export function buildRequest({ method = 'GET', path, port, headers = [], body }) {
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${HOST}:${port}`];
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    const bodyBuf = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (bodyBuf) lines.push(`Content-Length: ${bodyBuf.length}`);
    const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
    return bodyBuf ? Buffer.concat([head, bodyBuf]) : head;
}

/** Parses the status line and headers at the start of `buf`; returns null when the head is incomplete. */
function parseHead(buf) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})(?: (.*))?$/);
    if (!m) throw new Error(`malformed status line from server: ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`malformed response header line: ${JSON.stringify(line)}`);
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { status: Number(m[1]), reason: m[2] || '', headers, headSize: end + 4 };
}

/** Decodes a chunked body at the start of `buf`; returns {body, size} or null when incomplete. */
function parseChunked(buf) {
    const parts = [];
    let pos = 0;
    for (let guard = 0; guard < 100000; guard++) {
        const eol = buf.indexOf('\r\n', pos);
        if (eol < 0) return null;
        const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0], 16);
        if (!Number.isFinite(size) || size < 0) throw new Error('malformed chunk size from server');
        if (size === 0) {
            if (buf.length < eol + 4) return null;
            if (buf[eol + 2] === 13 && buf[eol + 3] === 10) return { body: Buffer.concat(parts), size: eol + 4 };
            const trailerEnd = buf.indexOf('\r\n\r\n', eol + 2);
            if (trailerEnd < 0) return null;
            return { body: Buffer.concat(parts), size: trailerEnd + 4 };
        }
        if (buf.length < eol + 2 + size + 2) return null;
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        pos = eol + 2 + size + 2;
    }
    throw new Error('too many chunks in response');
}

/**
 * Reads one HTTP response from `conn` (by Content-Length, chunked, or until close), consuming its bytes.
 * Resolves {status, reason, headers, body (Buffer), text}. Rejects if the connection ends before a full
 * response or after timeoutMs.
 */
export function readResponse(conn, timeoutMs = 5000) {
    return conn.waitFor(() => {
        const head = parseHead(conn.buf);
        if (!head) {
            if (conn.ended) {
                const got = conn.buf.length ? JSON.stringify(conn.buf.toString('latin1').slice(0, 200)) : 'nothing';
                throw new Error(`connection closed before a complete response head (got ${got})`);
            }
            return undefined;
        }
        const rest = conn.buf.subarray(head.headSize);
        let body;
        let size;
        const te = (head.headers['transfer-encoding'] || '').toLowerCase();
        if (head.status < 200 || head.status === 204 || head.status === 304) {
            body = Buffer.alloc(0);
            size = 0;
        } else if (te.includes('chunked')) {
            const c = parseChunked(rest);
            if (!c) {
                if (conn.ended) throw new Error('connection closed inside a chunked body');
                return undefined;
            }
            body = c.body;
            size = c.size;
        } else if (head.headers['content-length'] !== undefined) {
            const len = Number(head.headers['content-length']);
            if (rest.length < len) {
                if (conn.ended) throw new Error('connection closed before the full Content-Length body');
                return undefined;
            }
            body = rest.subarray(0, len);
            size = len;
        } else {
            if (!conn.ended) return undefined;
            body = rest;
            size = rest.length;
        }
        conn.take(head.headSize + size);
        return { ...head, body: Buffer.from(body), text: body.toString('utf8') };
    }, timeoutMs, 'an HTTP response');
}

/**
 * Sends raw request bytes on a fresh connection and reads one response. Resolves {res, conn}; the caller
 * closes `conn` (or waits for the server to close it).
 */
export async function exchange(port, requestBytes, timeoutMs = 5000) {
    const conn = await RawConn.connect(port);
    try {
        await conn.write(requestBytes);
        const res = await readResponse(conn, timeoutMs);
        return { res, conn };
    } catch (e) {
        conn.close();
        throw e;
    }
}

/** Like `exchange` with a request built by `buildRequest`; closes the connection and resolves the response. */
export async function request(port, opts, timeoutMs = 5000) {
    const { res, conn } = await exchange(port, buildRequest({ port, ...opts }), timeoutMs);
    conn.close();
    return res;
}

/** Parses an Engine.IO error body `{"code":N,"message":...}`; throws with the raw body when it is not one. */
export function errorBody(res) {
    let parsed;
    try {
        parsed = JSON.parse(res.text);
    } catch {
        throw new Error(`expected a JSON error body, got ${JSON.stringify(res.text.slice(0, 200))}`);
    }
    return parsed;
}

/* ------------------------------------------------------------- WebSocket frames */

/**
 * Encodes one WebSocket frame. Options: opcode (default 1), payload (string or Buffer), fin (default true),
 * rsv (3 bits, default 0), mask (default true), maskKey (4 bytes), lengthBytes (0 = 7-bit, 2, 8; default the
 * smallest fit), declaredLength (a Number or BigInt written instead of the real payload length).
 */
export function encodeFrame({
    opcode = 1, payload = '', fin = true, rsv = 0, mask = true, maskKey, lengthBytes, declaredLength,
} = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const len = declaredLength === undefined ? BigInt(data.length) : BigInt(declaredLength);
    let lb = lengthBytes;
    if (lb === undefined) lb = len <= 125n ? 0 : len <= 0xffffn ? 2 : 8;
    const head = Buffer.alloc(2 + lb + (mask ? 4 : 0));
    head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
    if (lb === 0) {
        head[1] = Number(len & 0x7fn);
    } else if (lb === 2) {
        head[1] = 126;
        head.writeUInt16BE(Number(len & 0xffffn), 2);
    } else {
        head[1] = 127;
        head.writeBigUInt64BE(BigInt.asUintN(64, len), 2);
    }
    if (!mask) return Buffer.concat([head, data]);
    head[1] |= 0x80;
    const key = maskKey || crypto.randomBytes(4);
    key.copy(head, 2 + lb);
    const masked = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ key[i & 3];
    return Buffer.concat([head, masked]);
}

/**
 * Decodes the frame at the start of `buf`: {fin, rsv, opcode, masked, payload, size} or null when the frame is
 * not complete yet. Throws on a length no test can expect from a server (over 2^32).
 */
export function decodeFrame(buf) {
    if (buf.length < 2) return null;
    const fin = (buf[0] & 0x80) !== 0;
    const rsv = (buf[0] >> 4) & 7;
    const opcode = buf[0] & 0x0f;
    const masked = (buf[1] & 0x80) !== 0;
    let len = buf[1] & 0x7f;
    let pos = 2;
    if (len === 126) {
        if (buf.length < 4) return null;
        len = buf.readUInt16BE(2);
        pos = 4;
    } else if (len === 127) {
        if (buf.length < 10) return null;
        const big = buf.readBigUInt64BE(2);
        if (big > 0xffffffffn) throw new Error(`server sent a frame length of ${big}`);
        len = Number(big);
        pos = 10;
    }
    let key = null;
    if (masked) {
        if (buf.length < pos + 4) return null;
        key = buf.subarray(pos, pos + 4);
        pos += 4;
    }
    if (buf.length < pos + len) return null;
    const payload = Buffer.from(buf.subarray(pos, pos + len));
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    return { fin, rsv, opcode, masked, payload, size: pos + len };
}

/** Reads a close frame's payload: {code, reason}; code is null when the payload is empty. */
export function parseClose(payload) {
    if (payload.length < 2) return { code: null, reason: '' };
    return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

/* ------------------------------------------------------------- WebSocket client */

/** A hand-written WebSocket client on a RawConn: sends any frame, reads frames and close codes back. */
export class WsConn {
    constructor(conn) {
        this.conn = conn;
    }

    /**
     * Performs the opening handshake on `path` and checks the 101 answer and Sec-WebSocket-Accept.
     * `headers` are extra [name, value] pairs.
     */
    static async open(port, path, { headers = [], timeoutMs = 5000 } = {}) {
        const key = crypto.randomBytes(16).toString('base64');
        const req = buildRequest({
            path,
            port,
            headers: [
                ['Upgrade', 'websocket'],
                ['Connection', 'Upgrade'],
                ['Sec-WebSocket-Key', key],
                ['Sec-WebSocket-Version', '13'],
                ...headers,
            ],
        });
        const { res, conn } = await exchange(port, req, timeoutMs);
        if (res.status !== 101) {
            conn.close();
            throw new Error(`WebSocket handshake on ${path} answered ${res.status}: ${res.text.slice(0, 200)}`);
        }
        const expected = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
        if (res.headers['sec-websocket-accept'] !== expected) {
            conn.close();
            throw new Error(`bad Sec-WebSocket-Accept: ${res.headers['sec-websocket-accept']}`);
        }
        return new WsConn(conn);
    }

    /** Writes one frame built by encodeFrame(opts). */
    send(opts) {
        return this.conn.write(encodeFrame(opts));
    }

    sendText(text) {
        return this.send({ opcode: 1, payload: text });
    }

    sendBinary(buf) {
        return this.send({ opcode: 2, payload: buf });
    }

    /** Writes raw bytes (several frames, or a deliberately broken one). */
    sendRaw(bytes) {
        return this.conn.write(bytes);
    }

    /** Next frame from the server, or null when the TCP connection ended first. */
    nextFrame(timeoutMs = 5000) {
        return this.conn.waitFor(() => {
            const f = decodeFrame(this.conn.buf);
            if (f) {
                this.conn.take(f.size);
                return f;
            }
            return this.conn.ended ? null : undefined;
        }, timeoutMs, 'a WebSocket frame');
    }

    /**
     * Next data message (fragments joined): a string for text, a Buffer for binary. Pings are answered and
     * skipped. Throws when a close frame or the end of the connection comes first.
     */
    async nextData(timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        const parts = [];
        let opcode = null;
        for (let guard = 0; guard < 100000; guard++) {
            const left = Math.max(1, deadline - Date.now());
            const f = await this.nextFrame(left);
            if (f === null) throw new Error('connection ended while waiting for a data message');
            if (f.opcode === 8) {
                const { code, reason } = parseClose(f.payload);
                throw new Error(`server closed the WebSocket (code ${code} ${reason}) while a data message was expected`);
            }
            if (f.opcode === 9) {
                await this.send({ opcode: 10, payload: f.payload });
                continue;
            }
            if (f.opcode === 10) continue;
            if (opcode === null) opcode = f.opcode;
            parts.push(f.payload);
            if (f.fin) {
                const data = Buffer.concat(parts);
                return opcode === 1 ? data.toString('utf8') : data;
            }
        }
        throw new Error('too many frames in one message');
    }

    /**
     * Waits until the server closes: skips data frames, answers a close frame with a close frame, then waits for
     * the TCP connection to end. Resolves {code, reason, closeFrame, frames} (code null when the close frame
     * had no payload or no close frame came before the TCP end). Rejects if either does not happen in time.
     */
    async waitClose(timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        const frames = [];
        for (let guard = 0; guard < 100000; guard++) {
            const left = Math.max(1, deadline - Date.now());
            const f = await this.nextFrame(left).catch((e) => {
                throw new Error(`the server did not close the WebSocket within ${timeoutMs} ms (${e.message})`);
            });
            if (f === null) return { code: null, reason: '', closeFrame: false, frames };
            if (f.opcode !== 8) {
                frames.push(f);
                continue;
            }
            const { code, reason } = parseClose(f.payload);
            const reply = Buffer.alloc(code === null ? 0 : 2);
            if (code !== null) reply.writeUInt16BE(code, 0);
            await this.send({ opcode: 8, payload: reply });
            await this.conn.waitFor(() => (this.conn.ended ? true : undefined), Math.max(1, deadline - Date.now()),
                'the TCP close after the close handshake');
            return { code, reason, closeFrame: true, frames };
        }
        throw new Error('too many frames before the close');
    }

    close() {
        this.conn.close();
    }
}

/* ------------------------------------------------------------- Engine.IO helpers */

/** Splits a v4 polling body into its packets. */
export function splitPayload(text) {
    return text.length === 0 ? [] : text.split('\x1e');
}

/** Opens a websocket-only Engine.IO session on `path` (default the raw echo); resolves {ws, sid, open}. */
export async function eioWebSocket(port, path = '/engine.io/') {
    const ws = await WsConn.open(port, `${path}?EIO=4&transport=websocket`);
    try {
        const first = await ws.nextData();
        if (typeof first !== 'string' || first[0] !== '0')
            throw new Error(`expected an Engine.IO open packet, got ${JSON.stringify(String(first).slice(0, 100))}`);
        const open = JSON.parse(first.slice(1));
        return { ws, sid: open.sid, open };
    } catch (e) {
        ws.close();
        throw e;
    }
}

/** Opens a polling Engine.IO session on `path`; resolves {sid, open}. */
export async function pollingHandshake(port, path = '/engine.io/') {
    const res = await request(port, { path: `${path}?EIO=4&transport=polling` });
    if (res.status !== 200 || res.text[0] !== '0')
        throw new Error(`polling handshake answered ${res.status}: ${res.text.slice(0, 200)}`);
    const open = JSON.parse(splitPayload(res.text)[0].slice(1));
    return { sid: open.sid, open };
}

/** GET on a polling session; resolves the response. */
export function pollGet(port, path, sid, timeoutMs = 5000) {
    return request(port, { path: `${path}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}` }, timeoutMs);
}

/** POST `body` on a polling session; resolves the response. */
export function pollPost(port, path, sid, body, headers = [['Content-Type', 'text/plain;charset=UTF-8']],
    timeoutMs = 5000) {
    return request(port, {
        method: 'POST',
        path: `${path}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
        headers,
        body,
    }, timeoutMs);
}

/**
 * Asserts that a polling session is gone: a GET on its sid answers 400 with code 1 ("Session ID unknown").
 * One GET may first receive the close packet `1` (a graceful close still flushing); a GET that hangs means
 * the session is alive and fails after the timeout.
 */
export async function expectPollingSessionGone(port, path, sid) {
    for (let attempt = 0; attempt < 2; attempt++) {
        const res = await pollGet(port, path, sid, 4000).catch((e) => {
            throw new Error(`session ${sid} still seems alive: GET on it gave no answer (${e.message})`);
        });
        if (res.status === 400) {
            const body = errorBody(res);
            if (body.code !== 1) throw new Error(`GET on a closed sid: expected code 1, got ${res.text}`);
            return;
        }
        if (res.status === 200 && attempt === 0 && splitPayload(res.text).includes('1')) continue;
        const shown = JSON.stringify(res.text.slice(0, 200));
        throw new Error(`session ${sid} still alive: GET answered ${res.status} ${shown}`);
    }
    throw new Error(`session ${sid} still alive after its close packet`);
}

/* ------------------------------------------------------------- Socket.IO helpers */

/**
 * Opens a websocket-only Socket.IO session on /socket.io/ and connects namespace `/`. Resolves {ws, sid}
 * after the CONNECT reply and the `auth` event the conformance handlers emit.
 */
export async function sioWebSocket(port) {
    const { ws } = await eioWebSocket(port, '/socket.io/');
    try {
        await ws.sendText('40');
        const reply = await ws.nextData();
        if (typeof reply !== 'string' || !reply.startsWith('40{'))
            throw new Error(`expected a CONNECT reply, got ${JSON.stringify(String(reply).slice(0, 100))}`);
        const sid = JSON.parse(reply.slice(2)).sid;
        const auth = await ws.nextData();
        if (auth !== '42["auth",{}]') throw new Error(`expected the auth event, got ${JSON.stringify(auth)}`);
        return { ws, sid };
    } catch (e) {
        ws.close();
        throw e;
    }
}
