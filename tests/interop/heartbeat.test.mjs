// Heartbeats and session timers at the conformance defaults (pingInterval 300, pingTimeout 200,
// connectTimeout 1000): real clients stay up across many pings; silent peers are dropped.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startServer } from '../lib/server.mjs';
import {
    MODES, ClientPool, ManagerV4, collect, connected, newV2, newV4, roundTrip, upgraded, waitFor,
} from './util.mjs';

let server;
before(async () => {
    server = await startServer([]); // conformance defaults: 300 / 200 / connect timeout 1000
});
after(async () => {
    if (server) await server.stop();
});

/** Opens a raw WebSocket to /socket.io/ and resolves with it and its text-frame queue. */
async function rawSocket(eio) {
    const url = `${server.url.replace('http', 'ws')}/socket.io/?EIO=${eio}&transport=websocket`;
    const ws = new WebSocket(url);
    const frames = [];
    const events = new EventEmitter();
    ws.on('message', (data, isBinary) => {
        if (!isBinary) frames.push(data.toString());
        events.emit('frame');
    });
    ws.on('close', () => events.emit('close'));
    await waitFor(ws, 'open', { failOn: ['error'] });
    return { ws, frames, events };
}

/** Waits until the raw peer has received a frame satisfying `pred`; returns it. */
async function nextFrame(peer, pred) {
    for (;;) {
        const i = peer.frames.findIndex(pred);
        if (i >= 0) return peer.frames.splice(i, 1)[0];
        await waitFor(peer.events, 'frame', { failOn: ['close'] });
    }
}

for (const mode of MODES) {
    describe(`heartbeats at 300/200 ms, ${mode.name}`, () => {
        const pool = new ClientPool();
        afterEach(() => pool.closeAll());

        test('socket.io-client 4.8.4 answers 5 server pings and keeps its session', async () => {
            const s = newV4(pool, server.url, { transports: mode.transports });
            await connected(s);
            if (!mode.transports) await upgraded(s);
            const engineId = s.io.engine.id;
            const drops = [];
            s.on('disconnect', (reason) => drops.push(reason));
            for (let i = 0; i < 5; i++) {
                await waitFor(s.io.engine, 'ping');
                await roundTrip(s, `ping-${i}`);
            }
            assert.deepEqual(drops, [], 'no disconnect across the pings');
            assert.equal(s.connected, true);
            assert.equal(s.io.engine.id, engineId, 'same Engine.IO session');
            assert.equal(s.io.engine.transport.name, mode.expected);
        });

        test('socket.io-client 2.5.0 gets pongs to its pings and keeps its session', async () => {
            const s = newV2(pool, server.url, { transports: mode.transports });
            await connected(s);
            if (!mode.transports) await upgraded(s);
            const engineId = s.io.engine.id;
            const drops = [];
            s.on('disconnect', (reason) => drops.push(reason));
            const pongs = await collect(s.io.engine, 'pong', 4);
            assert.equal(pongs.length, 4);
            await roundTrip(s);
            assert.deepEqual(drops, [], 'no disconnect across the pings');
            assert.equal(s.connected, true);
            assert.equal(s.io.engine.id, engineId, 'same Engine.IO session');
        });
    });
}

describe('silent peers and idle sessions', () => {
    const pool = new ClientPool();
    const raws = [];
    afterEach(() => {
        pool.closeAll();
        for (const ws of raws.splice(0)) ws.terminate();
    });

    test('the EIO4 handshake carries the configured timings; the server pings', async () => {
        const peer = await rawSocket(4);
        raws.push(peer.ws);
        const open = await nextFrame(peer, (f) => f.startsWith('0'));
        const info = JSON.parse(open.slice(1));
        assert.equal(info.pingInterval, 300);
        assert.equal(info.pingTimeout, 200);
        assert.deepEqual(info.upgrades, [], 'no upgrades from a WebSocket-only session');
        assert.equal(typeof info.sid, 'string');
        peer.ws.send('40');
        const ack = await nextFrame(peer, (f) => f.startsWith('40'));
        assert.equal(typeof JSON.parse(ack.slice(2)).sid, 'string');
        assert.equal(await nextFrame(peer, (f) => f.startsWith('2')), '2');
        peer.ws.send('3');
        assert.equal(await nextFrame(peer, (f) => f.startsWith('2')), '2', 'pings continue');
    });

    test('a peer that stops answering pings is disconnected', async () => {
        const peer = await rawSocket(4);
        raws.push(peer.ws);
        const closed = waitFor(peer.ws, 'close');
        await nextFrame(peer, (f) => f.startsWith('0'));
        peer.ws.send('40');
        await nextFrame(peer, (f) => f.startsWith('40'));
        await nextFrame(peer, (f) => f === '2'); // deliberately not answered
        await closed;
        assert.equal(peer.ws.readyState, WebSocket.CLOSED);
    });

    test('a session that never connects a namespace is closed (connect timeout)', async () => {
        const manager = new ManagerV4(server.url, {
            transports: ['websocket'],
            reconnection: false,
            autoConnect: false,
        });
        try {
            const opened = waitFor(manager, 'open', { failOn: ['error'] });
            manager.open();
            await opened;
            const [reason] = await waitFor(manager, 'close');
            assert.match(reason, /^transport (close|error)$/);
        } finally {
            manager.disconnect();
        }
    });
});
