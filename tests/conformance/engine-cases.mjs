// The Engine.IO-level cases that both official suites share (handshake, heartbeat, close,
// upgrade), registered for one path; engineio.test.mjs and socketio.test.mjs call it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    OPEN_KEYS,
    PollingSession,
    WsClient,
    errorCode,
    httpRequest,
    openWsSession,
    sleep,
    upgradeRequest,
} from './wire.mjs';

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1000000;

/**
 * Registers the shared cases. `srv` is filled in by the caller's `before()` with `url` and
 * `wsUrl`. `kind` is 'engine' for the raw echo on /engine.io/ or 'socket' for /socket.io/.
 *
 * On /socket.io/ the heartbeat, close and upgrade cases first CONNECT to `/`, so that the
 * 1000 ms connectTimeout can neither end the session for them nor make a check pass by luck.
 */
export function defineEngineCases(srv, { path, kind }) {
    const polling = (opts) => new PollingSession(srv.url, path, opts);
    const wsQuery = (query) => `${srv.wsUrl}${path}?${query}`;

    async function connectPolling(session) {
        if (kind !== 'socket') return;
        await session.send(['40']);
        assert.match(await session.nextData(), /^40\{"sid":"[^"]+"\}$/);
        assert.equal(await session.nextData(), '42["auth",{}]');
    }

    async function connectWs(ws) {
        if (kind !== 'socket') return;
        ws.send('40');
        assert.match(await ws.nextData(), /^40\{"sid":"[^"]+"\}$/);
        assert.equal(await ws.nextData(), '42["auth",{}]');
    }

    // Proves the session still carries data both ways over this WebSocket.
    async function roundTripWs(ws, tag) {
        if (kind === 'socket') {
            ws.send(`42["message","${tag}"]`);
            assert.equal(await ws.nextData(), `42["message-back","${tag}"]`);
        } else {
            ws.send(`4${tag}`);
            assert.equal(await ws.nextData(), `4${tag}`);
        }
    }

    // Probe and complete an upgrade of `session`; resolves to the upgraded WebSocket.
    async function upgrade(session) {
        const ws = new WsClient(wsQuery(`EIO=4&transport=websocket&sid=${session.sid}`));
        await ws.opened();
        ws.send('2probe');
        assert.equal(await ws.next(), '3probe');
        ws.send('5');
        return ws;
    }

    describe('handshake', () => {
        describe('HTTP long-polling', () => {
            it('opens a session with the advertised timings and maxPayload', async () => {
                const session = polling();
                const open = await session.open();
                assert.deepEqual(Object.keys(open).sort(), OPEN_KEYS);
                assert.ok(open.sid.length > 0, 'empty sid');
                assert.deepEqual(open.upgrades, ['websocket']);
                assert.equal(open.pingInterval, PING_INTERVAL);
                assert.equal(open.pingTimeout, PING_TIMEOUT);
                assert.equal(open.maxPayload, MAX_PAYLOAD);
                assert.deepEqual(session.queue, [], 'the handshake GET must carry only the open packet');
                const other = await polling().open();
                assert.notEqual(other.sid, open.sid, 'two sessions got the same sid');
            });

            it('answers 400 (code 0) to a missing or unknown transport', async () => {
                for (const query of ['EIO=4', 'EIO=4&transport=abc']) {
                    const res = await httpRequest(`${srv.url}${path}?${query}`);
                    assert.equal(res.status, 400, `${query} answered ${res.status}`);
                    assert.equal(errorCode(res), 0, `${query}: ${res.text}`);
                }
            });

            it('answers 400 (code 2) to a handshake that is not a GET', async () => {
                for (const method of ['POST', 'PUT']) {
                    const res = await httpRequest(`${srv.url}${path}?EIO=4&transport=polling`, { method, body: '' });
                    assert.equal(res.status, 400, `${method} answered ${res.status}`);
                    assert.equal(errorCode(res), 2, `${method}: ${res.text}`);
                }
            });
        });

        describe('WebSocket', () => {
            it('opens a WebSocket-only session with no upgrades', async () => {
                const { ws, handshake } = await openWsSession(srv.wsUrl, path);
                assert.deepEqual(Object.keys(handshake).sort(), OPEN_KEYS);
                assert.equal(typeof handshake.sid, 'string');
                assert.ok(handshake.sid.length > 0, 'empty sid');
                assert.deepEqual(handshake.upgrades, []);
                assert.equal(handshake.pingInterval, PING_INTERVAL);
                assert.equal(handshake.pingTimeout, PING_TIMEOUT);
                assert.equal(handshake.maxPayload, MAX_PAYLOAD);
                ws.close();
            });

            it('refuses the upgrade with 400 for a missing or unknown transport', async () => {
                for (const query of ['EIO=4', 'EIO=4&transport=abc']) {
                    const res = await upgradeRequest(wsQuery(query).replace(/^ws/, 'http'));
                    assert.equal(res.status, 400, `${query} answered ${res.status}`);
                }
            });
        });
    });

    describe('heartbeat', () => {
        describe('HTTP long-polling', () => {
            it('sends pings that pongs answer, three times over', async () => {
                const session = polling();
                await session.open();
                await connectPolling(session);
                for (let i = 0; i < 3; i++) {
                    assert.equal(await session.next(), '2', `ping ${i + 1}`);
                    await session.send(['3']);
                }
            });

            it('closes the session when no pong answers a ping', async () => {
                const session = polling();
                await session.open();
                await connectPolling(session);
                await sleep(PING_INTERVAL + PING_TIMEOUT);
                // The server may still hand out its ping (or a close) just before it gives up;
                // without a pong it must end the session within a few seconds.
                const deadline = Date.now() + 4000;
                for (;;) {
                    const res = await session.get();
                    if (res.status === 400) {
                        assert.equal(errorCode(res), 1, res.text);
                        break;
                    }
                    assert.equal(res.status, 200);
                    for (const packet of session.decode(res)) {
                        assert.ok(['1', '2', '6'].includes(packet), `unexpected packet ${JSON.stringify(packet)}`);
                    }
                    assert.ok(Date.now() < deadline, 'session still alive 4 s after its ping timeout');
                }
            });
        });

        describe('WebSocket', () => {
            it('sends pings that pongs answer, three times over', async () => {
                const { ws } = await openWsSession(srv.wsUrl, path);
                await connectWs(ws);
                for (let i = 0; i < 3; i++) {
                    assert.equal(await ws.next(), '2', `ping ${i + 1}`);
                    ws.send('3');
                }
                await roundTripWs(ws, 'alive');
                ws.close();
            });

            it('closes the session when no pong answers a ping', async () => {
                const { ws } = await openWsSession(srv.wsUrl, path);
                await connectWs(ws);
                await ws.closed(4000);
                assert.ok(ws.received.includes('2'), 'closed without having sent a ping');
            });
        });
    });

    // The WebSocket half of the official 'close' group is in eio3-framing.test.mjs: engine.io
    // ignores a close packet over WebSocket, and only its ping timeout passes the official test.
    describe('close', () => {
        it('HTTP long-polling: a close packet ends the session and the pending GET gets a noop', async () => {
            const session = polling();
            await session.open();
            await connectPolling(session);
            const pending = session.get();
            await sleep(50);
            const post = await session.post('1');
            assert.equal(post.status, 200);
            const res = await pending;
            assert.equal(res.status, 200);
            assert.equal(res.text, '6');
            const after = await session.get();
            assert.equal(after.status, 400);
            assert.equal(errorCode(after), 1, after.text);
        });
    });

    describe('upgrade', () => {
        it('upgrades from long-polling to WebSocket, a GET during the probe gets a noop', async () => {
            const session = polling();
            await session.open();
            await connectPolling(session);
            const ws = new WsClient(wsQuery(`EIO=4&transport=websocket&sid=${session.sid}`));
            await ws.opened();
            ws.send('2probe');
            assert.equal(await ws.next(), '3probe');
            const res = await session.get();
            assert.equal(res.status, 200);
            const packets = session.decode(res);
            assert.ok(packets.includes('6'), `no noop for the GET: ${JSON.stringify(res.text)}`);
            for (const packet of packets) {
                assert.ok(packet === '6' || packet === '2', `GET got ${JSON.stringify(packet)}`);
            }
            ws.send('5');
            if (packets.includes('2')) ws.send('3');
            await roundTripWs(ws, 'upgraded');
            ws.close();
        });

        it('refuses long-polling requests with the sid after the upgrade', async () => {
            const session = polling();
            await session.open();
            await connectPolling(session);
            const ws = await upgrade(session);
            await roundTripWs(ws, 'first');
            const get = await session.get();
            assert.equal(get.status, 400, `GET after upgrade answered ${get.status}`);
            const post = await session.post(kind === 'socket' ? '42["message","x"]' : '4x');
            assert.equal(post.status, 400, `POST after upgrade answered ${post.status}`);
            await roundTripWs(ws, 'still-upgraded');
            ws.close();
        });

        it('closes a second WebSocket with the sid after the upgrade', async () => {
            const session = polling();
            await session.open();
            await connectPolling(session);
            const ws = await upgrade(session);
            await roundTripWs(ws, 'first');
            const second = new WsClient(wsQuery(`EIO=4&transport=websocket&sid=${session.sid}`));
            await second.closed();
            assert.deepEqual(second.received, [], 'the second WebSocket must get no packet');
            await roundTripWs(ws, 'still-upgraded');
            ws.close();
        });
    });
}
