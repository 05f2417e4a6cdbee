// Browser origins on /socket.io/ (--allowed-origins) and the security headers of every HTTP response, against
// the broker in broker mode (the origin check is off in --conformance mode): raw requests, `ws` and socket.io-client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { Broker, BROKER_BIN, until } from '../e2e/harness.mjs';
import { buildRequest, exchange, request, splitPayload, WsConn } from './raw.mjs';
import { serverKind } from './harness.mjs';

const SIO = '/socket.io/';
const POLLING = `${SIO}?EIO=4&transport=polling`;
const WEBSOCKET = `${SIO}?EIO=4&transport=websocket`;
const FOREIGN = 'http://evil.example';
const LISTED = 'http://a.example:8080';
const QUIET = ['--ping-interval', '20000', '--ping-timeout', '10000', '--connect-timeout', '30000'];
const skip = serverKind === 'reference' ? 'the reference server has no origin rule' : false;

/** A broker in broker mode on a fresh data directory; `close()` stops it and removes the directory. */
async function startBroker(args) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-'));
    const broker = new Broker(dir, [...QUIET, ...args]);
    await broker.start();
    return {
        broker,
        port: broker.port,
        url: broker.url,
        same: `http://127.0.0.1:${broker.port}`,
        async close() {
            await broker.stop();
            broker.checkSanitizers();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

function originHeader(origin) {
    return origin === undefined ? [] : [['Origin', origin]];
}

function handshake(port, origin) {
    return request(port, { path: POLLING, headers: originHeader(origin) });
}

function sidOf(res) {
    assert.equal(res.status, 200, `handshake answered ${res.status}: ${res.text}`);
    return JSON.parse(splitPayload(res.text)[0].slice(1)).sid;
}

function pollGet(port, sid, origin) {
    return request(port, { path: `${POLLING}&sid=${sid}`, headers: originHeader(origin) });
}

function pollPost(port, sid, body, origin) {
    return request(port, {
        method: 'POST',
        path: `${POLLING}&sid=${sid}`,
        headers: [['Content-Type', 'text/plain;charset=UTF-8'], ...originHeader(origin)],
        body,
    });
}

/** A WebSocket upgrade request on /socket.io/; resolves the (non-101) response, closing the connection. */
async function upgrade(port, origin, query = WEBSOCKET) {
    const bytes = buildRequest({
        path: query,
        port,
        headers: [
            ['Upgrade', 'websocket'],
            ['Connection', 'Upgrade'],
            ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
            ['Sec-WebSocket-Version', '13'],
            ...originHeader(origin),
        ],
    });
    const { res, conn } = await exchange(port, bytes);
    conn.close();
    return res;
}

function assertRefused(res, what) {
    assert.equal(res.status, 403, `${what}: expected 403, got ${res.status} ${res.text}`);
    assert.deepEqual(JSON.parse(res.text), { code: 4, message: 'Origin not allowed' }, what);
    assert.equal(res.headers['access-control-allow-origin'], undefined, `${what}: CORS header on a refusal`);
}

function assertNoCors(res) {
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
}

function assertCors(res, origin) {
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers.vary, 'Origin');
}

function assertSecurityHeaders(res) {
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
}

/** A `ws` client on /socket.io/: resolves {open, ws} with the Engine.IO open packet, or {status} when refused. */
function wsConnect(url, origin) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}${WEBSOCKET}`, origin ? { origin } : {});
        const timer = setTimeout(() => {
            ws.terminate();
            reject(new Error('ws: no answer within 5 s'));
        }, 5000);
        ws.once('message', (data) => {
            clearTimeout(timer);
            resolve({ open: data.toString(), ws });
        });
        ws.once('unexpected-response', (req, res) => {
            clearTimeout(timer);
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        ws.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
        });
    });
}

/** socket.io-client with an Origin header: resolves 'connect' or the connect_error message. */
function sioConnect(url, origin, transports) {
    const socket = io(url, {
        transports,
        extraHeaders: { Origin: origin },
        reconnection: false,
        forceNew: true,
        timeout: 5000,
    });
    return new Promise((resolve) => {
        socket.once('connect', () => {
            const transport = socket.io.engine.transport.name;
            socket.disconnect();
            resolve({ connected: true, transport });
        });
        socket.once('connect_error', (e) => {
            socket.disconnect();
            resolve({ connected: false, error: e });
        });
    });
}

describe('origins: default (same origin only)', { timeout: 120000, skip }, () => {
    let b;

    before(async () => {
        b = await startBroker([]);
    });

    after(async () => {
        if (b) await b.close();
    });

    it('allows a handshake without Origin, with no CORS headers', async () => {
        const res = await handshake(b.port);
        sidOf(res);
        assertNoCors(res);
    });

    it('allows the same origin over polling: handshake, GET and POST', async () => {
        const res = await handshake(b.port, b.same);
        const sid = sidOf(res);
        assertNoCors(res);
        const post = await pollPost(b.port, sid, '40', b.same);
        assert.equal(post.status, 200, post.text);
        const get = await pollGet(b.port, sid, b.same);
        assert.equal(get.status, 200, get.text);
        assert.ok(splitPayload(get.text).some((p) => p.startsWith('40')), `no CONNECT reply in ${get.text}`);
    });

    it('allows the same origin in another case and over https (a TLS proxy in front)', async () => {
        sidOf(await handshake(b.port, `HTTP://127.0.0.1:${b.port}`));
        sidOf(await handshake(b.port, `https://127.0.0.1:${b.port}`));
    });

    it('allows the same origin over WebSocket (raw and ws)', async () => {
        const raw = await WsConn.open(b.port, WEBSOCKET, { headers: originHeader(b.same) });
        const first = await raw.nextData();
        raw.close();
        assert.match(first, /^0\{"sid"/);
        const viaWs = await wsConnect(b.url, b.same);
        assert.match(viaWs.open ?? '', /^0\{"sid"/, `ws refused: ${viaWs.status} ${viaWs.body}`);
        viaWs.ws.close();
    });

    it('connects socket.io-client from the same origin over polling and over websocket', async () => {
        const polling = await sioConnect(b.url, b.same, ['polling']);
        assert.equal(polling.connected, true, `polling: ${polling.error?.message}`);
        assert.equal(polling.transport, 'polling');
        const websocket = await sioConnect(b.url, b.same, ['websocket']);
        assert.equal(websocket.connected, true, `websocket: ${websocket.error?.message}`);
        assert.equal(websocket.transport, 'websocket');
    });

    it('refuses a foreign origin on the polling handshake', async () => {
        assertRefused(await handshake(b.port, FOREIGN), 'handshake');
    });

    it('refuses a foreign origin on GET and POST of an existing session, which lives on', async () => {
        const sid = sidOf(await handshake(b.port));
        assertRefused(await pollGet(b.port, sid, FOREIGN), 'GET');
        assertRefused(await pollPost(b.port, sid, '40', FOREIGN), 'POST');
        const post = await pollPost(b.port, sid, '40');
        assert.equal(post.status, 200, `the session did not survive the refusals: ${post.text}`);
    });

    it('refuses a foreign origin on the WebSocket upgrade, before the handshake', async () => {
        const res = await upgrade(b.port, FOREIGN);
        assertRefused(res, 'upgrade');
        assert.equal(res.headers['sec-websocket-accept'], undefined);
        const sid = sidOf(await handshake(b.port));
        assertRefused(await upgrade(b.port, FOREIGN, `${WEBSOCKET}&sid=${sid}`), 'upgrade of a session');
        const viaWs = await wsConnect(b.url, FOREIGN);
        assert.equal(viaWs.status, 403);
    });

    it('gives socket.io-client from a foreign origin a connect_error', async () => {
        for (const transports of [['polling'], ['websocket']]) {
            const r = await sioConnect(b.url, FOREIGN, transports);
            assert.equal(r.connected, false, `${transports}: connected from a foreign origin`);
        }
    });

    it('refuses Origin: null, a different port and a preflight from a foreign origin', async () => {
        assertRefused(await handshake(b.port, 'null'), 'null');
        assertRefused(await handshake(b.port, `http://127.0.0.1:${b.port + 1}`), 'other port');
        assertRefused(await request(b.port, { method: 'OPTIONS', path: POLLING, headers: [['Origin', FOREIGN]] }),
            'preflight');
    });

    it('puts the security headers on /healthz, on polling responses, on refusals and on a 404', async () => {
        const health = await request(b.port, { path: '/healthz' });
        assert.equal(health.status, 200);
        assertSecurityHeaders(health);
        const hs = await handshake(b.port);
        assertSecurityHeaders(hs);
        const post = await pollPost(b.port, sidOf(hs), '40');
        assertSecurityHeaders(post);
        assertSecurityHeaders(await handshake(b.port, FOREIGN));
        const missing = await request(b.port, { path: '/no-such-path' });
        assert.equal(missing.status, 404);
        assertSecurityHeaders(missing);
    });

    it('logs the refused origin without the query string', async () => {
        await request(b.port, { path: `${POLLING}&token=SECRET-TOKEN`, headers: [['Origin', 'http://logged.example']] });
        const log = await until(() => /origin refused.*http:\/\/logged\.example/.test(b.broker.stderr()) &&
            b.broker.stderr(), { what: 'the refusal in the log' });
        assert.doesNotMatch(log, /SECRET-TOKEN/);
    });
});

describe('origins: --allowed-origins with one origin', { timeout: 120000, skip }, () => {
    let b;

    before(async () => {
        b = await startBroker(['--allowed-origins', `${LISTED.toUpperCase()}/ , https://other.example`]);
    });

    after(async () => {
        if (b) await b.close();
    });

    it('allows the listed origin with the CORS headers, on handshake, GET and POST', async () => {
        const res = await handshake(b.port, LISTED);
        const sid = sidOf(res);
        assertCors(res, LISTED);
        const post = await pollPost(b.port, sid, '40', LISTED);
        assert.equal(post.status, 200, post.text);
        assertCors(post, LISTED);
        const get = await pollGet(b.port, sid, LISTED);
        assert.equal(get.status, 200, get.text);
        assertCors(get, LISTED);
    });

    it('answers a preflight from the listed origin with 204 and the CORS headers', async () => {
        const res = await request(b.port, {
            method: 'OPTIONS',
            path: POLLING,
            headers: [['Origin', LISTED], ['Access-Control-Request-Method', 'POST']],
        });
        assert.equal(res.status, 204);
        assertCors(res, LISTED);
        assert.equal(res.headers['access-control-allow-methods'], 'GET, POST');
        assert.equal(res.headers['access-control-allow-headers'], 'content-type');
        assert.equal(res.headers['access-control-max-age'], '600');
        assertSecurityHeaders(res);
    });

    it('allows the listed origin over WebSocket and socket.io-client', async () => {
        const viaWs = await wsConnect(b.url, LISTED);
        assert.match(viaWs.open ?? '', /^0\{"sid"/, `ws refused: ${viaWs.status} ${viaWs.body}`);
        viaWs.ws.close();
        const r = await sioConnect(b.url, LISTED, ['polling']);
        assert.equal(r.connected, true, r.error?.message);
    });

    it('still refuses other origins, and sends no CORS headers to the same origin', async () => {
        assertRefused(await handshake(b.port, 'http://a.example:8081'), 'other port');
        assertRefused(await handshake(b.port, 'http://b.example:8080'), 'other host');
        assertRefused(await handshake(b.port, 'null'), 'null');
        const same = await handshake(b.port, b.same);
        sidOf(same);
        assertNoCors(same);
    });
});

describe('origins: --allowed-origins *', { timeout: 120000, skip }, () => {
    let b;

    before(async () => {
        b = await startBroker(['--allowed-origins', '*']);
    });

    after(async () => {
        if (b) await b.close();
    });

    it('allows any origin with the CORS headers, but not null', async () => {
        for (const origin of [FOREIGN, 'https://anything.example:9443']) {
            const res = await handshake(b.port, origin);
            sidOf(res);
            assertCors(res, origin);
        }
        const viaWs = await wsConnect(b.url, FOREIGN);
        assert.match(viaWs.open ?? '', /^0\{"sid"/);
        viaWs.ws.close();
        assertRefused(await handshake(b.port, 'null'), 'null');
    });
});

describe('origins: a bad --allowed-origins', { timeout: 30000, skip }, () => {
    it('makes the broker exit non-zero with a message naming the bad entry', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-bad-'));
        try {
            const proc = spawn(BROKER_BIN,
                ['--port', '0', '--data', dir, '--allowed-origins', 'https://ok.example,crowdai.org/x'],
                { stdio: ['ignore', 'pipe', 'pipe'] });
            let stderr = '';
            let stdout = '';
            proc.stderr.on('data', (d) => (stderr += d));
            proc.stdout.on('data', (d) => (stdout += d));
            const code = await new Promise((resolve) => proc.once('exit', resolve));
            assert.notEqual(code, 0);
            assert.doesNotMatch(stdout, /READY/);
            assert.match(stderr, /--allowed-origins/);
            assert.match(stderr, /crowdai\.org\/x/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
