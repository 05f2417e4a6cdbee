// EIO=3 behaviour that old clients (socket.io 1.x/2.x, socketIO-client 0.7) rely on, per §1.3 of
// the protocol notes: length-prefixed polling payloads, client-side heartbeat, implicit `40`, 0x04 frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PING_INTERVAL, PING_TIMEOUT } from './engine-cases.mjs';
import { PollingSession, WsClient, encodeV3Binary, httpRequest, openWsSession, sleep, useServer } from './wire.mjs';

const PH0 = '{"_placeholder":true,"num":0}';

describe('EIO=3 clients', { timeout: 60000 }, () => {
    const srv = useServer();

    const b64Session = (path = '/engine.io/') => new PollingSession(srv.url, path, { eio: 3, b64: true });
    const openWs3 = (path = '/engine.io/') => openWsSession(srv.wsUrl, path, 'EIO=3&transport=websocket');

    // A raw GET on a b64=1 session: checks it is text framing and returns the body.
    async function getText(session) {
        const res = await session.get();
        assert.equal(res.status, 200, `GET answered ${res.status}: ${res.text}`);
        assert.match(res.headers['content-type'] || '', /^text\/plain/i);
        return res.text;
    }

    describe('long-polling with b64=1 (text framing)', () => {
        it('sends the handshake as <length>:<open packet>, text/plain', async () => {
            const res = await httpRequest(`${srv.url}/engine.io/?EIO=3&transport=polling&b64=1`);
            assert.equal(res.status, 200);
            assert.match(res.headers['content-type'] || '', /^text\/plain/i);
            const m = /^(\d+):(0\{.*\})$/s.exec(res.text);
            assert.ok(m, `not <len>:0{...}: ${JSON.stringify(res.text)}`);
            assert.equal(Number(m[1]), m[2].length, 'the length prefix does not match the packet');
            const open = JSON.parse(m[2].slice(1));
            assert.equal(typeof open.sid, 'string');
            assert.ok(open.sid.length > 0);
            assert.deepEqual(open.upgrades, ['websocket']);
            assert.equal(open.pingInterval, PING_INTERVAL);
            assert.equal(open.pingTimeout, PING_TIMEOUT);
        });

        it('counts lengths in UTF-16 code units (€ is 1, an emoji 2) both ways', async () => {
            const session = b64Session();
            await session.open();
            const body = '2:4€3:4😀6:4hello';
            const post = await session.post(body);
            assert.equal(post.status, 200);
            assert.equal(post.text, 'ok');
            assert.equal(await getText(session), body);
        });

        it('carries binary packets as b4<base64>', async () => {
            const session = b64Session();
            await session.open();
            const post = await session.post('10:b4AQIDBA==');
            assert.equal(post.status, 200);
            assert.equal(await getText(session), '10:b4AQIDBA==');
        });

        it('accepts a POST in the binary (XHR2) framing and answers in text framing', async () => {
            const session = b64Session();
            await session.open();
            const body = Buffer.from([0, 4, 0xff, 0x34, 0xe2, 0x82, 0xac, 1, 4, 0xff, 4, 1, 2, 3]);
            const post = await session.post(body, { headers: { 'Content-Type': 'application/octet-stream' } });
            assert.equal(post.status, 200);
            assert.equal(await getText(session), '2:4€6:b4AQID');
        });

        it('answers a client ping 2 with a pong 3', async () => {
            const session = b64Session();
            await session.open();
            const post = await session.post('1:2');
            assert.equal(post.status, 200);
            assert.equal(await getText(session), '1:3');
        });
    });

    describe('long-polling without b64', () => {
        it('echoes text and binary packets in the XHR2 framing as application/octet-stream', async () => {
            const session = new PollingSession(srv.url, '/engine.io/', { eio: 3 });
            await session.open();
            const body = encodeV3Binary(['4€', Buffer.from([4, 1, 2, 3])]);
            assert.deepEqual([...body], [0, 4, 0xff, 0x34, 0xe2, 0x82, 0xac, 1, 4, 0xff, 4, 1, 2, 3]);
            const post = await session.post(body);
            assert.equal(post.status, 200);
            const res = await session.get();
            assert.equal(res.status, 200);
            assert.match(res.headers['content-type'] || '', /^application\/octet-stream/i);
            assert.deepEqual([...res.body], [...body]);
        });
    });

    describe('WebSocket', () => {
        it('echoes text frames, and binary frames with their leading 0x04 type byte', async () => {
            const { ws } = await openWs3();
            ws.send('4hi');
            assert.equal(await ws.next(), '4hi');
            ws.send(Buffer.from([4, 1, 2, 3]));
            const msg = await ws.next();
            assert.ok(Buffer.isBuffer(msg), `got a text frame ${JSON.stringify(msg)}`);
            assert.deepEqual([...msg], [4, 1, 2, 3]);
            ws.close();
        });

        it('lets the client ping: pongs come back, the server never pings, a silent client is dropped', async () => {
            const { ws } = await openWs3();
            // Four client pings 150 ms apart span more than pingInterval + pingTimeout.
            for (let i = 0; i < 4; i++) {
                ws.send('2');
                assert.equal(await ws.next(), '3', `pong ${i + 1}`);
                await sleep(150);
            }
            ws.send('4alive');
            assert.equal(await ws.next(), '4alive');
            await ws.closed(4000);
            assert.ok(!ws.received.includes('2'), 'an EIO=3 server must not send pings');
        });
    });

    describe('Socket.IO over EIO=3', () => {
        it('connects to / without a CONNECT (40), emits auth {}, echoes and acks events', async () => {
            const { ws } = await openWs3('/socket.io/');
            assert.equal(await ws.next(), '40');
            assert.equal(await ws.next(), '42["auth",{}]');
            ws.send('42["message",1,"2",{"3":[true]}]');
            assert.equal(await ws.next(), '42["message-back",1,"2",{"3":[true]}]');
            ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
            assert.equal(await ws.next(), '43456[1,"2",{"3":[false]}]');
            ws.close();
        });

        it('connects to / without a CONNECT over long-polling with b64=1', async () => {
            const session = b64Session('/socket.io/');
            await session.open();
            assert.equal(await session.next(), '40');
            assert.equal(await session.next(), '42["auth",{}]');
            await session.send(['42["message","polled"]']);
            assert.equal(await session.next(), '42["message-back","polled"]');
        });

        it('connects to /custom on request', async () => {
            const { ws } = await openWs3('/socket.io/');
            assert.equal(await ws.next(), '40');
            assert.equal(await ws.next(), '42["auth",{}]');
            ws.send('40/custom');
            assert.match(await ws.next(), /^40\/custom,?$/);
            assert.equal(await ws.next(), '42/custom,["auth",{}]');
            ws.send('42/custom,["message","x"]');
            assert.equal(await ws.next(), '42/custom,["message-back","x"]');
            ws.close();
        });

        it('sends binary attachments as frames with a leading 0x04, for events and acks', async () => {
            const { ws } = await openWs3('/socket.io/');
            assert.equal(await ws.next(), '40');
            assert.equal(await ws.next(), '42["auth",{}]');
            ws.send(`451-["message",${PH0}]`);
            ws.send(Buffer.from([4, 1, 2, 3]));
            assert.equal(await ws.next(), `451-["message-back",${PH0}]`);
            assert.deepEqual(await ws.next(), Buffer.from([4, 1, 2, 3]));
            ws.send(`451-5["message-with-ack",${PH0}]`);
            ws.send(Buffer.from([4, 9]));
            assert.equal(await ws.next(), `461-5[${PH0}]`);
            assert.deepEqual(await ws.next(), Buffer.from([4, 9]));
            ws.close();
        });

        it('upgrades a b64=1 long-polling session to WebSocket', async () => {
            const session = b64Session('/socket.io/');
            await session.open();
            assert.equal(await session.next(), '40');
            assert.equal(await session.next(), '42["auth",{}]');
            const ws = new WsClient(`${srv.wsUrl}/socket.io/?EIO=3&transport=websocket&sid=${session.sid}`);
            await ws.opened();
            ws.send('2probe');
            assert.equal(await ws.next(), '3probe');
            ws.send('5');
            ws.send('42["message","upgraded"]');
            assert.equal(await ws.next(), '42["message-back","upgraded"]');
            const get = await session.get();
            assert.equal(get.status, 400, `GET after upgrade answered ${get.status}`);
            ws.close();
        });
    });
});
