// Connection-level resource limits: --max-connections (extra connections closed at once, 503 at most) and
// --max-output (a peer that never reads is disconnected), while a well-behaved client carries on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawConn, buildRequest, request, encodeFrame, eioWebSocket, sioWebSocket } from './raw.mjs';
import { startTestServer, connectGoodClient, assertAlive, assertNoFdLeak } from './harness.mjs';

const MAX_CONNECTIONS = 8;
const MAX_OUTPUT = 100000;

describe('connection limits', { timeout: 120000 }, () => {
    let server;
    let good;
    let port;

    before(async () => {
        server = await startTestServer([
            '--max-connections', String(MAX_CONNECTIONS),
            '--max-output', String(MAX_OUTPUT),
            '--max-payload', '10000',
            '--header-timeout', '1000',
        ]);
        port = server.port;
        good = await connectGoodClient(server.url);
    });

    after(async () => {
        if (good) good.close();
        if (server) await server.stop();
    });

    /** Opens WebSocket sessions until the server holds MAX_CONNECTIONS connections (the good client is one). */
    async function fillToLimit() {
        const holders = [];
        try {
            for (let i = 0; i < MAX_CONNECTIONS - 1; i++) holders.push((await eioWebSocket(port)).ws);
        } catch (e) {
            for (const ws of holders) ws.close();
            throw e;
        }
        return holders;
    }

    /** One connection past the limit: it must be closed, having received nothing or a 503. */
    async function expectRefused() {
        const conn = await RawConn.connect(port);
        try {
            await conn.write(buildRequest({ path: '/engine.io/?EIO=4&transport=polling', port }));
            const closed = await conn.closesWithin(5000);
            const got = conn.buf.toString('latin1');
            assert.ok(closed, `connection over --max-connections still open (received ${JSON.stringify(got.slice(0, 60))})`);
            if (got.length > 0) assert.match(got, /^HTTP\/1\.[01] 503 /, 'a refused connection may only get 503');
        } finally {
            conn.close();
        }
    }

    describe('--max-connections', () => {
        it('connections past the limit are closed (503 at most), and accepted again once some close', async () => {
            const holders = await fillToLimit();
            try {
                await Promise.all([expectRefused(), expectRefused(), expectRefused()]);
                for (const ws of holders.splice(0, 3)) ws.close();
                let status = null;
                for (let i = 0; i < 25 && status !== 200; i++) {
                    await sleep(200);
                    const res = await request(port, { path: '/engine.io/?EIO=4&transport=polling' }).catch(() => null);
                    status = res ? res.status : null;
                }
                assert.equal(status, 200, 'no handshake succeeded within 5 s after connections were released');
                const extra = await eioWebSocket(port);
                extra.ws.close();
            } finally {
                for (const ws of holders) ws.close();
            }
            await good.check('max-connections');
        });

        it('no fd leak after 50 connections refused at the limit', async () => {
            const holders = await fillToLimit();
            try {
                await assertNoFdLeak(server, () => expectRefused());
            } finally {
                for (const ws of holders) ws.close();
            }
            await good.check('refused fd batch');
        });
    });

    describe('--max-output', () => {
        /** Resolves true on 'drain', false on error, close or timeout. */
        function drained(sock, timeoutMs) {
            return new Promise((resolve) => {
                const done = (v) => {
                    clearTimeout(timer);
                    sock.removeListener('drain', onDrain);
                    sock.removeListener('close', onClose);
                    resolve(v);
                };
                const onDrain = () => done(true);
                const onClose = () => done(false);
                const timer = setTimeout(() => done(false), timeoutMs);
                sock.once('drain', onDrain);
                sock.once('close', onClose);
            });
        }

        it('a WebSocket client that asks for large echoes and never reads is disconnected', async () => {
            const { ws } = await sioWebSocket(port);
            const sock = ws.conn.sock;
            const frame = encodeFrame({ opcode: 1, payload: `42["message","${'o'.repeat(8000)}"]` });
            // Enough echoes to fill both kernel socket buffers many times over the limit; stops early on an error.
            const cap = Math.ceil((12 * 1024 * 1024) / frame.length);
            let sent = 0;
            try {
                sock.pause();
                while (sent < cap && !ws.conn.ended) {
                    const ok = sock.write(frame);
                    sent += 1;
                    if (!ok && !(await drained(sock, 2000))) break;
                }
                await sleep(300);
                sock.resume();
                let echoes = 0;
                let ended = false;
                for (let i = 0; i < cap + 10; i++) {
                    const f = await ws.nextFrame(5000).catch(() => undefined);
                    if (f === undefined) break;
                    if (f === null || f.opcode === 8) {
                        ended = f === null || (await ws.conn.closesWithin(5000));
                        break;
                    }
                    if (f.payload.toString('latin1', 0, 20).startsWith('42["message-back"')) echoes += 1;
                }
                assert.ok(ended, `connection still open after ${sent} unread echo requests (${echoes} echoes read back)`);
                assert.ok(echoes < sent, `all ${sent} echoes were delivered, so the connection was not cut for its output`);
            } finally {
                ws.close();
            }
            await good.check('max-output');
        });
    });

    describe('the server survives', () => {
        it('the server process is alive and the good client was never disconnected', async () => {
            assertAlive(server);
            await good.check('end of file');
        });
    });
});
