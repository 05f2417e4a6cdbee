// What docs/CONFORMANCE.md and §1.3 of the protocol notes require of OUR server where the reference
// (engine.io 6.6.12, allowEIO3) behaves otherwise: these run always and fail there by design.
//
// Condition, documented rather than skipped: under SERVER=reference the failures below are the
// known deviations of engine.io 6.6.12 and are expected; against crowdai-broker every test must pass.
//   - EIO=3 polling without b64=1: engine.io answers text framing (`<len>:<packet>`, text/plain)
//     whenever the payload holds no binary packet; we must always use the XHR2 binary framing,
//     because socketIO-client 0.7.x (the crowdAI client) can read nothing else.
//   - A missing or unknown EIO: with allowEIO3 engine.io takes it for EIO=3 and opens a session;
//     we answer 400 (this is the official suites' "invalid EIO" test, one per path and transport).
//   - A POST over maxPayload: engine.io answers 413 but keeps the session; we close it.
//   - A POST with an invalid packet: engine.io answers 200 "ok" and then closes; we answer 400.
//   - /engine.io and /socket.io without the trailing slash: engine.io never answers.
//   - A close packet `1` over WebSocket: engine.io ignores it (the JS client closes the socket
//     itself); the official suite's WebSocket close test passes there only through the ping
//     timeout. Here pings are answered, so only the close packet can end the connection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverKind, startServer } from '../lib/server.mjs';
import { MAX_PAYLOAD, PING_INTERVAL, PING_TIMEOUT } from './engine-cases.mjs';
import { OPEN_KEYS, PollingSession, decodeV3Binary, errorCode, httpRequest, openWsSession, upgradeRequest, useServer } from './wire.mjs';

// Appended to assertion messages so that a failure on the reference names its known cause.
function onReference(cause) {
    return serverKind === 'reference' ? ` [expected on the reference server: ${cause}]` : '';
}

const TEXT_FRAMING = onReference('engine.io 6 uses text framing for text-only EIO=3 payloads');

function assertOctetStream(res) {
    const type = res.headers['content-type'] || '';
    assert.match(type, /^application\/octet-stream/i, `Content-Type ${type}${TEXT_FRAMING}`);
}

describe('Required where the reference deviates', { timeout: 60000 }, () => {
    const srv = useServer();

    // A GET that must come back in the XHR2 framing; returns its packets.
    async function getBinaryFramed(url) {
        const res = await httpRequest(url);
        assert.equal(res.status, 200, `GET answered ${res.status}: ${res.text}`);
        assertOctetStream(res);
        assert.equal(res.body[0], 0, `first byte of ${JSON.stringify(res.text.slice(0, 20))}${TEXT_FRAMING}`);
        return decodeV3Binary(res.body);
    }

    describe('EIO=3 long-polling without b64=1 uses the binary (XHR2) framing', () => {
        it('sends the handshake as 0x00, length digits as bytes, 0xFF, open packet', async () => {
            const res = await httpRequest(`${srv.url}/engine.io/?EIO=3&transport=polling`);
            assert.equal(res.status, 200);
            assertOctetStream(res);
            const body = res.body;
            assert.equal(body[0], 0, `first byte${TEXT_FRAMING}`);
            const end = body.indexOf(0xff);
            assert.ok(end > 1, `no 0xFF after the length${TEXT_FRAMING}`);
            const digits = [...body.subarray(1, end)];
            assert.ok(digits.every((d) => d <= 9), `length bytes ${digits} are not digit values`);
            const packet = body.subarray(end + 1);
            assert.equal(Number(digits.join('')), packet.length, 'the length does not match the packet');
            const text = packet.toString('utf8');
            assert.ok(text.startsWith('0{'), `not an open packet: ${text}`);
            const open = JSON.parse(text.slice(1));
            assert.equal(typeof open.sid, 'string');
            assert.deepEqual(open.upgrades, ['websocket']);
            assert.equal(open.pingInterval, PING_INTERVAL);
            assert.equal(open.pingTimeout, PING_TIMEOUT);
        });

        it('answers a text-framed POST in the binary framing, lengths in UTF-8 bytes', async () => {
            const session = new PollingSession(srv.url, '/engine.io/', { eio: 3 });
            await session.open();
            const post = await session.post('2:4€3:4😀');
            assert.equal(post.status, 200);
            assert.equal(post.text, 'ok');
            const res = await session.get();
            assert.equal(res.status, 200);
            assertOctetStream(res);
            const expected = Buffer.concat([
                Buffer.from([0, 4, 0xff]),
                Buffer.from('4€', 'utf8'),
                Buffer.from([0, 5, 0xff]),
                Buffer.from('4😀', 'utf8'),
            ]);
            assert.deepEqual([...res.body], [...expected], `body ${JSON.stringify(res.text)}${TEXT_FRAMING}`);
        });

        it('Socket.IO: the open packet, the implicit 40 and auth all come in the binary framing', async () => {
            const [open] = await getBinaryFramed(`${srv.url}/socket.io/?EIO=3&transport=polling`);
            assert.ok(typeof open === 'string' && open.startsWith('0{'), `not an open packet: ${open}`);
            const sid = JSON.parse(open.slice(1)).sid;
            const url = `${srv.url}/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(sid)}`;
            const packets = [];
            while (packets.length < 2) packets.push(...(await getBinaryFramed(url)));
            assert.deepEqual(packets, ['40', '42["auth",{}]']);
        });
    });

    for (const path of ['/engine.io/', '/socket.io/']) {
        describe(`a missing or unknown EIO on ${path}`, () => {
            const cause = onReference('allowEIO3 takes any EIO other than 4 for 3');

            it('polling: 400 with code 5', async () => {
                for (const eio of ['', 'EIO=abc&', 'EIO=5&']) {
                    const query = `${eio}transport=polling`;
                    const res = await httpRequest(`${srv.url}${path}?${query}`);
                    assert.equal(res.status, 400, `${query} answered ${res.status}${cause}`);
                    assert.equal(errorCode(res), 5, `${query}: ${res.text}`);
                }
            });

            it('WebSocket: the upgrade is refused with 400', async () => {
                for (const eio of ['', 'EIO=abc&', 'EIO=5&']) {
                    const query = `${eio}transport=websocket`;
                    const res = await upgradeRequest(`${srv.url}${path}?${query}`);
                    assert.equal(res.status, 400, `${query} answered ${res.status}${cause}`);
                }
            });
        });
    }

    describe('polling errors close the session as docs/CONFORMANCE.md says', () => {
        it('a POST over maxPayload gets 413 and the session is gone', async () => {
            const session = new PollingSession(srv.url, '/engine.io/');
            await session.open();
            const res = await session.post('4' + 'x'.repeat(MAX_PAYLOAD), { fresh: true, timeoutMs: 10000 });
            assert.equal(res.status, 413);
            const get = await session.get();
            const cause = onReference('engine.io keeps the session');
            assert.equal(get.status, 400, `GET after 413 answered ${get.status}${cause}`);
        });

        it('a POST with an invalid packet gets 400 and the session is gone', async () => {
            const session = new PollingSession(srv.url, '/engine.io/');
            await session.open();
            const res = await session.post('abc');
            const cause = onReference('engine.io answers 200 "ok" first');
            assert.equal(res.status, 400, `POST answered ${res.status}${cause}`);
            const get = await session.get();
            assert.equal(get.status, 400);
        });
    });

    for (const path of ['/engine.io/', '/socket.io/']) {
        it(`a close packet over WebSocket closes the connection on ${path}`, async () => {
            const { ws } = await openWsSession(srv.wsUrl, path);
            let after = '4after';
            if (path === '/socket.io/') {
                ws.send('40');
                assert.match(await ws.nextData(), /^40\{"sid":"[^"]+"\}$/);
                assert.equal(await ws.nextData(), '42["auth",{}]');
                after = '42["message","after"]';
            }
            ws.send('1');
            ws.send(after);
            const cause = onReference('engine.io ignores a close packet over WebSocket');
            const { others } = await ws.closedAnsweringPings().catch((err) => assert.fail(err.message + cause));
            assert.deepEqual(others, [], `answers after the close packet${cause}`);
        });
    }

    it('serves /engine.io and /socket.io without the trailing slash', async () => {
        const cause = onReference('engine.io only matches /engine.io/ with the slash');
        for (const path of ['/engine.io', '/socket.io']) {
            const res = await httpRequest(`${srv.url}${path}?EIO=4&transport=polling`).catch((err) => {
                assert.fail(`${path}: ${err.message}${cause}`);
            });
            assert.equal(res.status, 200, `${path} answered ${res.status}`);
            assert.ok(res.text.startsWith('0{'), `${path}: not an open packet`);
            assert.deepEqual(Object.keys(JSON.parse(res.text.slice(1))).sort(), OPEN_KEYS);
        }
    });
});
