// The official socket.io-protocol suite's expectations on /socket.io/ (namespaces / and /custom, auth,
// message-back, message-with-ack); its invalid-EIO and WebSocket close cases are in eio3-framing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineEngineCases } from './engine-cases.mjs';
import { PollingSession, openWsSession, useServer } from './wire.mjs';

const PATH = '/socket.io/';
const PH0 = '{"_placeholder":true,"num":0}';
const PH1 = '{"_placeholder":true,"num":1}';

describe('Socket.IO protocol on /socket.io/', { timeout: 60000 }, () => {
    const srv = useServer();

    const openWs = () => openWsSession(srv.wsUrl, PATH);

    // Checks a CONNECT reply `40[<nsp>,]{"sid":...}` and returns the socket id.
    function assertConnected(packet, prefix) {
        assert.ok(packet.startsWith(prefix + '{'), `expected ${prefix}{...}, got ${JSON.stringify(packet)}`);
        const body = JSON.parse(packet.slice(prefix.length));
        assert.deepEqual(Object.keys(body), ['sid']);
        assert.equal(typeof body.sid, 'string');
        assert.ok(body.sid.length > 0, 'empty socket id');
        return body.sid;
    }

    // A WebSocket session connected to `/`, its CONNECT reply and auth event consumed.
    async function connectedWs() {
        const { ws, handshake } = await openWs();
        ws.send('40');
        assertConnected(await ws.nextData(), '40');
        assert.equal(await ws.nextData(), '42["auth",{}]');
        return { ws, handshake };
    }

    // Sends `packet` and right behind it a valid one (`then`), answers pings, and expects the
    // connection to close without any answer: neither a timeout nor ignoring `packet` can pass.
    async function expectCloseAfter(ws, packet, then = '42["message","after"]') {
        ws.send(packet);
        ws.send(then);
        const { others } = await ws.closedAnsweringPings();
        assert.deepEqual(others, [], `answers after ${JSON.stringify(packet)}`);
    }

    defineEngineCases(srv, { path: PATH, kind: 'socket' });

    describe('connect', () => {
        it('connects to the main namespace; the reply carries a socket id and auth is {}', async () => {
            const { ws, handshake } = await openWs();
            ws.send('40');
            const sid = assertConnected(await ws.nextData(), '40');
            assert.notEqual(sid, handshake.sid, 'the socket id must differ from the Engine.IO sid');
            assert.equal(await ws.nextData(), '42["auth",{}]');
            ws.close();
        });

        it('connects to the main namespace with an auth payload', async () => {
            const { ws } = await openWs();
            ws.send('40{"token":"123"}');
            assertConnected(await ws.nextData(), '40');
            assert.equal(await ws.nextData(), '42["auth",{"token":"123"}]');
            ws.close();
        });

        it('connects to a custom namespace', async () => {
            const { ws } = await openWs();
            ws.send('40/custom');
            assertConnected(await ws.nextData(), '40/custom,');
            assert.equal(await ws.nextData(), '42/custom,["auth",{}]');
            ws.close();
        });

        it('connects to a custom namespace with an auth payload', async () => {
            const { ws } = await openWs();
            ws.send('40/custom,{"token":"abc"}');
            assertConnected(await ws.nextData(), '40/custom,');
            assert.equal(await ws.nextData(), '42/custom,["auth",{"token":"abc"}]');
            ws.close();
        });

        it('refuses an unknown namespace with CONNECT_ERROR and keeps the session', async () => {
            const { ws } = await openWs();
            ws.send('40/random');
            assert.equal(await ws.nextData(), '44/random,{"message":"Invalid namespace"}');
            ws.send('40');
            assertConnected(await ws.nextData(), '40');
            assert.equal(await ws.nextData(), '42["auth",{}]');
            ws.close();
        });

        it('closes the connection upon an invalid handshake packet', async () => {
            const { ws } = await openWs();
            await expectCloseAfter(ws, '4abc', '40');
        });

        it('closes the connection when no CONNECT arrives within connectTimeout', async () => {
            const { ws } = await openWs();
            // Pongs keep the heartbeat happy, so only the connect timeout can end the session.
            const { pings, others } = await ws.closedAnsweringPings(4000);
            assert.deepEqual(others, []);
            assert.ok(pings >= 1, 'closed before the first ping, i.e. before connectTimeout (1000 > 300 ms)');
        });
    });

    describe('disconnect', () => {
        it('disconnects from the main namespace; the next frame is a ping and the session lives on', async () => {
            const { ws } = await connectedWs();
            ws.send('41');
            assert.equal(await ws.next(), '2');
            ws.send('3');
            ws.send('40');
            assertConnected(await ws.nextData(), '40');
            assert.equal(await ws.nextData(), '42["auth",{}]');
            ws.close();
        });

        it('connects to then disconnects from a custom namespace; / still answers, /custom is gone', async () => {
            const { ws } = await connectedWs();
            ws.send('40/custom');
            assertConnected(await ws.nextData(), '40/custom,');
            assert.equal(await ws.nextData(), '42/custom,["auth",{}]');
            ws.send('41/custom');
            ws.send('42["message","message to main namespace"]');
            assert.equal(await ws.nextData(), '42["message-back","message to main namespace"]');
            // /custom is really left: an event for it now ends the session.
            await expectCloseAfter(ws, '42/custom,["message","left already"]');
        });
    });

    describe('message', () => {
        it('echoes a plain-text event as message-back', async () => {
            const { ws } = await connectedWs();
            ws.send('42["message",1,"2",{"3":[true]}]');
            assert.equal(await ws.nextData(), '42["message-back",1,"2",{"3":[true]}]');
            ws.close();
        });

        it('echoes an event with two binary attachments', async () => {
            const { ws } = await connectedWs();
            ws.send(`452-["message",${PH0},${PH1}]`);
            ws.send(Buffer.from([1, 2, 3]));
            ws.send(Buffer.from([4, 5, 6]));
            assert.equal(await ws.nextData(), `452-["message-back",${PH0},${PH1}]`);
            const first = await ws.nextData();
            const second = await ws.nextData();
            assert.ok(Buffer.isBuffer(first) && Buffer.isBuffer(second), 'attachments must be binary frames');
            assert.deepEqual([...first], [1, 2, 3]);
            assert.deepEqual([...second], [4, 5, 6]);
            ws.close();
        });

        it('acks a plain-text event with its arguments', async () => {
            const { ws } = await connectedWs();
            ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
            assert.equal(await ws.nextData(), '43456[1,"2",{"3":[false]}]');
            ws.close();
        });

        it('acks an event with binary attachments with a BINARY_ACK', async () => {
            const { ws } = await connectedWs();
            ws.send(`452-789["message-with-ack",${PH0},${PH1}]`);
            ws.send(Buffer.from([1, 2, 3]));
            ws.send(Buffer.from([4, 5, 6]));
            assert.equal(await ws.nextData(), `462-789[${PH0},${PH1}]`);
            const first = await ws.nextData();
            const second = await ws.nextData();
            assert.ok(Buffer.isBuffer(first) && Buffer.isBuffer(second), 'attachments must be binary frames');
            assert.deepEqual([...first], [1, 2, 3]);
            assert.deepEqual([...second], [4, 5, 6]);
            ws.close();
        });

        it('closes the connection upon an unknown packet type', async () => {
            const { ws } = await connectedWs();
            await expectCloseAfter(ws, '4abc');
        });

        it('closes the connection upon a payload that is not an array', async () => {
            const { ws } = await connectedWs();
            await expectCloseAfter(ws, '42{}');
        });

        it('closes the connection upon an invalid ack id', async () => {
            const { ws } = await connectedWs();
            await expectCloseAfter(ws, '42abc["message-with-ack",1,"2",{"3":[false]}]');
        });

        it('closes the connection upon an event for a namespace it has not joined', async () => {
            const { ws } = await connectedWs();
            await expectCloseAfter(ws, '42/custom,["message","not joined"]');
        });
    });

    describe('long-polling', () => {
        it('connects, echoes and acks binary events with b<base64> attachments', async () => {
            const session = new PollingSession(srv.url, PATH);
            await session.open();
            await session.send(['40/custom,{"token":"p"}']);
            assertConnected(await session.nextData(), '40/custom,');
            assert.equal(await session.nextData(), '42/custom,["auth",{"token":"p"}]');
            await session.send([`452-/custom,["message",${PH0},${PH1}]`, Buffer.from([1, 2, 3]), Buffer.from([255])]);
            assert.equal(await session.nextData(), `452-/custom,["message-back",${PH0},${PH1}]`);
            assert.deepEqual(await session.nextData(), Buffer.from([1, 2, 3]));
            assert.deepEqual(await session.nextData(), Buffer.from([255]));
            await session.send([`451-/custom,7["message-with-ack",${PH0}]`, Buffer.from([9, 8])]);
            assert.equal(await session.nextData(), `461-/custom,7[${PH0}]`);
            assert.deepEqual(await session.nextData(), Buffer.from([9, 8]));
            await session.send(['1']);
        });
    });
});
