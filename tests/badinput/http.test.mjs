// Bad HTTP requests against the Engine.IO/Socket.IO endpoints (query, method, framing, header limits,
// slowloris, WebSocket upgrade): each gets the status and connection handling docs/CONFORMANCE.md specifies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import crypto from 'node:crypto';
import {
    RawConn, buildRequest, readResponse, exchange, request, errorBody, splitPayload, pollingHandshake,
} from './raw.mjs';
import { startTestServer, connectGoodClient, assertAlive, assertNoFdLeak } from './harness.mjs';

const MAX_HEADERS = 50;
const MAX_HEADER_BYTES = 4096;
const HEADER_TIMEOUT = 1000;
const PATHS = ['/engine.io/', '/socket.io/'];
const HANDSHAKE = '/engine.io/?EIO=4&transport=polling';
const SIO_HANDSHAKE = '/socket.io/?EIO=4&transport=polling';

describe('HTTP layer', { timeout: 120000 }, () => {
    let server;
    let good;
    let port;

    before(async () => {
        server = await startTestServer([
            '--max-payload', '10000',
            '--header-timeout', String(HEADER_TIMEOUT),
            '--max-headers', String(MAX_HEADERS),
            '--max-header-bytes', String(MAX_HEADER_BYTES),
        ]);
        port = server.port;
        good = await connectGoodClient(server.url);
    });

    after(async () => {
        if (good) good.close();
        if (server) await server.stop();
    });

    /** Sends `bytes` on a fresh connection, expects `status`, then expects the server to close the connection. */
    async function expectStatusThenClose(bytes, status) {
        const { res, conn } = await exchange(port, bytes);
        try {
            assert.equal(res.status, status, `answered ${res.status} ${res.text.slice(0, 100)}`);
            await conn.waitClosed(5000);
        } finally {
            conn.close();
        }
    }

    /** Expects an Engine.IO error: `status` with the JSON body code `code`. */
    function assertEioError(res, status, code) {
        assert.equal(res.status, status, `answered ${res.status} ${res.text.slice(0, 100)}`);
        const body = errorBody(res);
        assert.equal(body.code, code, `body ${res.text}`);
        assert.equal(typeof body.message, 'string');
    }

    /** Upgrade request headers with `Sec-WebSocket-Key`/`-Version` replaced as given (null drops one). */
    function upgradeHeaders({ key = crypto.randomBytes(16).toString('base64'), version = '13', extra = [] } = {}) {
        const h = [['Upgrade', 'websocket'], ['Connection', 'Upgrade']];
        if (key !== null) h.push(['Sec-WebSocket-Key', key]);
        if (version !== null) h.push(['Sec-WebSocket-Version', version]);
        return [...h, ...extra];
    }

    describe('query parameters, sid and method: 400 with an Engine.IO error code', () => {
        for (const path of PATHS) {
            const badEio = ['?transport=polling', '?EIO=5&transport=polling', '?EIO=abc&transport=polling', '?EIO=&transport=polling'];
            for (const query of badEio) {
                it(`${path}${query}: missing or unknown EIO gets code 5`, async () => {
                    assertEioError(await request(port, { path: path + query }), 400, 5);
                    await good.check(`${path}${query}`);
                });
            }
            for (const query of ['?EIO=4', '?EIO=4&transport=flashsocket', '?EIO=4&transport=']) {
                it(`${path}${query}: missing or unknown transport gets code 0`, async () => {
                    assertEioError(await request(port, { path: path + query }), 400, 0);
                    await good.check(`${path}${query}`);
                });
            }
        }

        it('a WebSocket upgrade without EIO gets 400 code 5', async () => {
            const res = await request(port, { path: '/engine.io/?transport=websocket', headers: upgradeHeaders() });
            assertEioError(res, 400, 5);
            await good.check('upgrade without EIO');
        });

        it('an unknown sid gets 400 code 1 on polling GET and POST', async () => {
            const q = '/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA';
            assertEioError(await request(port, { path: q }), 400, 1);
            assertEioError(await request(port, { method: 'POST', path: q, body: '4x' }), 400, 1);
            await good.check('unknown sid');
        });

        it('an unknown sid gets 400 code 1 on a WebSocket upgrade', async () => {
            const res = await request(port, {
                path: '/engine.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA',
                headers: upgradeHeaders(),
            });
            assertEioError(res, 400, 1);
            await good.check('unknown sid upgrade');
        });

        for (const method of ['POST', 'PUT', 'DELETE']) {
            it(`a handshake with ${method} gets 400 code 2`, async () => {
                const body = method === 'DELETE' ? undefined : '4x';
                const res = await request(port, { method, path: '/engine.io/?EIO=4&transport=polling', body });
                assertEioError(res, 400, 2);
                await good.check(`handshake ${method}`);
            });
        }

        it('PUT on an existing polling session gets 400 code 2', async () => {
            const { sid } = await pollingHandshake(port);
            const path = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
            const res = await request(port, { method: 'PUT', path, body: '4x' });
            assertEioError(res, 400, 2);
            await good.check('PUT with sid');
        });
    });

    describe('unparsable requests: 400 and the connection closed', () => {
        async function pollPostHead(headers) {
            const { sid } = await pollingHandshake(port);
            return buildRequest({ method: 'POST', path: `/engine.io/?EIO=4&transport=polling&sid=${sid}`, port, headers });
        }

        it('Content-Length together with Transfer-Encoding', async () => {
            const head = await pollPostHead([['Content-Length', '3'], ['Transfer-Encoding', 'chunked']]);
            await expectStatusThenClose(Buffer.concat([head, Buffer.from('2\r\n4x\r\n0\r\n\r\n')]), 400);
            await good.check('CL + TE');
        });

        for (const value of ['-1', '12abc', '99999999999999999999999999']) {
            it(`Content-Length: ${value}`, async () => {
                const head = await pollPostHead([['Content-Length', value]]);
                await expectStatusThenClose(Buffer.concat([head, Buffer.from('4x')]), 400);
                await good.check(`CL ${value}`);
            });
        }

        const garbage = [
            ['a garbage request line', 'HELLO\r\n\r\n'],
            ['a request line without a version', 'GET /engine.io/?EIO=4&transport=polling\r\n\r\n'],
            ['a header line without a colon', `GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n`],
            ['a NUL byte in the request target', `GET /engine.io/?EIO=4\0&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n`],
            ['a space inside a header name', `GET ${HANDSHAKE} HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n`],
        ];
        for (const [name, text] of garbage) {
            it(name, async () => {
                await expectStatusThenClose(Buffer.from(text, 'latin1'), 400);
                await good.check(name);
            });
        }
    });

    describe('header limits: 431 and the connection closed', () => {
        const target = '/engine.io/?EIO=4&transport=polling';

        function withHeaders(headers) {
            return buildRequest({ path: target, port, headers });
        }

        it(`control: ${MAX_HEADERS - 10} headers within --max-header-bytes are served`, async () => {
            const headers = Array.from({ length: MAX_HEADERS - 10 }, (_, i) => [`X-H${i}`, 'v']);
            const { res, conn } = await exchange(port, withHeaders(headers));
            conn.close();
            assert.equal(res.status, 200);
            assert.equal(res.text[0], '0');
            await good.check('headers control');
        });

        for (const count of [MAX_HEADERS + 1, 200]) {
            it(`${count} headers (over --max-headers)`, async () => {
                const headers = Array.from({ length: count }, (_, i) => [`X-H${i}`, 'v']);
                await expectStatusThenClose(withHeaders(headers), 431);
                await good.check(`${count} headers`);
            });
        }

        it('control: a 3 KB header line is served', async () => {
            const { res, conn } = await exchange(port, withHeaders([['X-Big', 'b'.repeat(3000)]]));
            conn.close();
            assert.equal(res.status, 200);
            await good.check('3 KB header');
        });

        it('an 8 KB header line (over --max-header-bytes)', async () => {
            await expectStatusThenClose(withHeaders([['X-Big', 'b'.repeat(8192)]]), 431);
            await good.check('8 KB header');
        });

        it('a 5 KB request line (over --max-header-bytes)', async () => {
            await expectStatusThenClose(buildRequest({ path: `${target}&pad=${'p'.repeat(5000)}`, port }), 431);
            await good.check('5 KB request line');
        });

        it('a 64 KB Sec-WebSocket-Protocol on an upgrade', async () => {
            const headers = upgradeHeaders({ extra: [['Sec-WebSocket-Protocol', 'a,'.repeat(32768)]] });
            await expectStatusThenClose(buildRequest({ path: '/engine.io/?EIO=4&transport=websocket', port, headers }), 431);
            await good.check('64 KB protocol header');
        });
    });

    describe('WebSocket upgrade requests: 400', () => {
        const target = '/engine.io/?EIO=4&transport=websocket';
        const cases = [
            ['without Sec-WebSocket-Key', { key: null }],
            ['with Sec-WebSocket-Version 8', { version: '8' }],
            ['without Sec-WebSocket-Version', { version: null }],
        ];
        for (const [name, opts] of cases) {
            it(name, async () => {
                const res = await request(port, { path: target, headers: upgradeHeaders(opts) });
                assert.equal(res.status, 400, `answered ${res.status}`);
                await good.check(name);
            });
        }
    });

    describe('origins (docs/CONFORMANCE.md specifies no policy)', () => {
        for (const origin of ['null', 'http://evil.example']) {
            it(`Origin: ${origin} gets either a normal handshake or 403 code 4`, async () => {
                const res = await request(port, { path: SIO_HANDSHAKE, headers: [['Origin', origin]] });
                if (res.status === 200) assert.equal(splitPayload(res.text)[0][0], '0');
                else assertEioError(res, 403, 4);
                await good.check(`origin ${origin}`);
            });
        }
    });

    describe('--header-timeout: slow or idle connections are closed', () => {
        it('slowloris: header bytes trickled one at a time are cut off', async () => {
            const conn = await RawConn.connect(port);
            try {
                await conn.write(`GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
                // One byte every 200 ms, at most 50 of them (10 s): the header block never ends.
                for (let i = 0; i < 50 && !conn.ended; i++) {
                    await conn.write('a');
                    await sleep(200);
                }
                assert.ok(await conn.closesWithin(1000), 'connection still open after 10 s of trickled headers');
                assert.ok(!conn.buf.toString('latin1').startsWith('HTTP/1.1 200'), 'an incomplete request was served');
            } finally {
                conn.close();
            }
            await good.check('slowloris');
        });

        it('a connection that never sends a byte is closed', async () => {
            const conn = await RawConn.connect(port);
            try {
                assert.ok(await conn.closesWithin(10 * HEADER_TIMEOUT), 'silent connection still open');
            } finally {
                conn.close();
            }
            await good.check('silent connection');
        });

        it('an idle keep-alive connection is closed after a served request', async () => {
            const conn = await RawConn.connect(port);
            try {
                await conn.write(buildRequest({ path: HANDSHAKE, port, headers: [['Connection', 'keep-alive']] }));
                const res = await readResponse(conn);
                assert.equal(res.status, 200);
                assert.ok(await conn.closesWithin(10 * HEADER_TIMEOUT), 'idle keep-alive connection still open');
            } finally {
                conn.close();
            }
            await good.check('idle keep-alive');
        });
    });

    describe('the server survives', () => {
        it('no fd leak after 50 unparsable requests', async () => {
            await assertNoFdLeak(server, async (i) => {
                const text = i % 2 ? 'HELLO\r\n\r\n' : 'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nNoColon\r\n\r\n';
                const { res, conn } = await exchange(port, Buffer.from(text));
                try {
                    assert.equal(res.status, 400);
                    await conn.waitClosed(5000);
                } finally {
                    conn.close();
                }
            });
            await good.check('fd batch');
        });

        it('the server process is alive and the good client was never disconnected', async () => {
            assertAlive(server);
            await good.check('end of file');
        });
    });
});
