// The official engine.io-protocol suite's expectations on /engine.io/ (a raw echo) plus maxPayload and
// unknown-sid checks; its invalid-EIO and WebSocket close cases are in eio3-framing.test.mjs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PAYLOAD, defineEngineCases } from './engine-cases.mjs';
import { PollingSession, RS, decodeV4, errorCode, httpRequest, openWsSession, sleep, useServer } from './wire.mjs';

const PATH = '/engine.io/';

describe('Engine.IO protocol on /engine.io/', { timeout: 60000 }, () => {
    const srv = useServer();

    const polling = () => new PollingSession(srv.url, PATH);

    // One GET right after a POST: its packets, with any server ping answered and left out.
    async function echoed(session) {
        const res = await session.get();
        assert.equal(res.status, 200, `GET answered ${res.status}: ${res.text}`);
        const packets = decodeV4(res.text);
        if (packets.includes('2')) await session.send(['3']);
        return packets.filter((p) => p !== '2');
    }

    defineEngineCases(srv, { path: PATH, kind: 'engine' });

    describe('message', () => {
        describe('HTTP long-polling', () => {
            it('echoes a payload of one text packet', async () => {
                const session = polling();
                await session.open();
                const post = await session.post('4hello');
                assert.equal(post.status, 200);
                assert.equal(post.text, 'ok');
                assert.deepEqual(await echoed(session), ['4hello']);
            });

            it('echoes a payload of several text packets in one body joined by \\x1e', async () => {
                const session = polling();
                await session.open();
                const post = await session.post(['4test1', '4test2', '4test3'].join(RS));
                assert.equal(post.status, 200);
                assert.deepEqual(await echoed(session), ['4test1', '4test2', '4test3']);
            });

            it('echoes a payload of text and base64 binary packets', async () => {
                const session = polling();
                await session.open();
                const post = await session.post(`4hello${RS}bAQIDBA==`);
                assert.equal(post.status, 200);
                const res = await session.get();
                assert.equal(res.status, 200);
                const body = res.text.split(RS).filter((p) => p !== '2');
                assert.deepEqual(body, ['4hello', 'bAQIDBA==']);
            });

            it('closes the session upon an invalid packet', async () => {
                const session = polling();
                await session.open();
                // The official suite tolerates any answer here (even a cut connection); the
                // stricter 400 of docs/CONFORMANCE.md is checked in eio3-framing.test.mjs.
                await session.post('abc').catch(() => {});
                const res = await session.get();
                assert.equal(res.status, 400);
                assert.equal(errorCode(res), 1, res.text);
            });

            it('closes the session upon two concurrent GETs; the first one gets a close packet', async () => {
                const session = polling();
                await session.open();
                const first = session.get();
                await sleep(50);
                const second = await session.get();
                assert.ok([400, 500].includes(second.status), `second GET answered ${second.status}`);
                const res = await first;
                assert.equal(res.status, 200);
                assert.equal(res.text, '1');
                const after = await session.get();
                assert.equal(after.status, 400);
            });
        });

        describe('WebSocket', () => {
            it('echoes a text packet', async () => {
                const { ws } = await openWsSession(srv.wsUrl, PATH);
                ws.send('4hello');
                assert.equal(await ws.nextData(), '4hello');
                ws.close();
            });

            it('echoes a binary frame as a binary frame without a type byte', async () => {
                const { ws } = await openWsSession(srv.wsUrl, PATH);
                ws.send(Buffer.from([1, 2, 3, 4]));
                const msg = await ws.nextData();
                assert.ok(Buffer.isBuffer(msg), `got a text frame ${JSON.stringify(msg)}`);
                assert.deepEqual([...msg], [1, 2, 3, 4]);
                ws.close();
            });

            it('closes the session upon an invalid packet', async () => {
                const { ws } = await openWsSession(srv.wsUrl, PATH);
                // A valid packet right behind it must not be echoed: the session is gone.
                ws.send('abc');
                ws.send('4after');
                const { others } = await ws.closedAnsweringPings();
                assert.deepEqual(others, []);
            });
        });
    });

    describe('limits and unknown sessions', () => {
        it('answers 400 (code 1) to a GET or POST with an unknown sid', async () => {
            const url = `${srv.url}${PATH}?EIO=4&transport=polling&sid=doesnotexist0000`;
            const get = await httpRequest(url);
            assert.equal(get.status, 400);
            assert.equal(errorCode(get), 1, get.text);
            const post = await httpRequest(url, { method: 'POST', body: '4x' });
            assert.equal(post.status, 400);
            assert.equal(errorCode(post), 1, post.text);
        });

        it('accepts and echoes a POST of exactly maxPayload bytes', async () => {
            const session = polling();
            await session.open();
            const packet = '4' + 'x'.repeat(MAX_PAYLOAD - 1);
            const post = await session.post(packet, { timeoutMs: 10000 });
            assert.equal(post.status, 200);
            const res = await session.get(10000);
            assert.equal(res.status, 200);
            const packets = decodeV4(res.text).filter((p) => p !== '2');
            assert.equal(packets.length, 1);
            assert.ok(packets[0] === packet, `echo of ${packets[0].length} chars differs`);
        });

        it('answers 413 to a POST over maxPayload', async () => {
            const session = polling();
            await session.open();
            const res = await session.post('4' + 'x'.repeat(MAX_PAYLOAD), { fresh: true, timeoutMs: 10000 });
            assert.equal(res.status, 413);
        });

        it('closes a WebSocket with 1009 on a message over maxPayload', async () => {
            const { ws } = await openWsSession(srv.wsUrl, PATH);
            ws.send('4' + 'x'.repeat(MAX_PAYLOAD));
            const { code } = await ws.closed(10000);
            assert.equal(code, 1009);
        });
    });
});
