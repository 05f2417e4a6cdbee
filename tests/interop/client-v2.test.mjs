// Interop with socket.io-client 2.5.0 (EIO3 / Socket.IO protocol v4) over polling only, websocket
// only and polling-then-upgrade, plus v2 and v4 clients sharing rooms and broadcasts.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
    MODES, SANE_TIMINGS, ClientPool, assertSameData, bigString, bytes, collect, connected,
    emitAck, engineClosed, newV2, newV4, record, roundTrip, sibling, upgraded, waitFor,
} from './util.mjs';

let server;
before(async () => {
    server = await startServer(SANE_TIMINGS);
});
after(async () => {
    if (server) await server.stop();
});

const MIXED = [
    0, -2.25, 123456789, 'text', '', true, false, null,
    [1, [2, [3]]], { a: { b: [1, 'x', null] }, 'k k': 'v' },
    'héllo 日本 😀🚀', '\ud800', 'nul \u0000 and \u2028',
];

for (const mode of MODES) {
    describe(`socket.io-client 2.5.0 (EIO3), ${mode.name}`, () => {
        const pool = new ClientPool();
        afterEach(() => pool.closeAll());
        const client = (opts = {}) => newV2(pool, server.url, { transports: mode.transports, ...opts });

        test('connects to `/` (implicitly) and gets `{}` in `auth`', async () => {
            const s = client();
            const initial = s.io.engine.transport.name;
            assert.deepEqual(await connected(s), {});
            if (mode.transports) {
                assert.equal(s.io.engine.transport.name, mode.expected);
            } else {
                assert.equal(initial, 'polling', 'the default set-up starts on polling');
                assert.equal(await upgraded(s), 'websocket');
                assert.equal(s.io.engine.transport.name, 'websocket');
                await roundTrip(s);
            }
        });

        test('connects to `/custom` alone and works there', async () => {
            const s = client({ nsp: '/custom' });
            assert.deepEqual(await connected(s), {});
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', ['on custom']), ['on custom']);
        });

        test('`/` and `/custom` share one Engine.IO session and stay separate', async () => {
            const root = client();
            const custom = sibling(pool, root, '/custom');
            await Promise.all([connected(root), connected(custom)]);
            assert.equal(root.io, custom.io);
            const engineId = root.io.engine.id;
            const rootEchoes = record(root, 'message-back');
            const back = waitFor(custom, 'message-back');
            custom.emit('message', 'to custom');
            assert.deepStrictEqual(await back, ['to custom']);
            await roundTrip(root);
            assert.equal(rootEchoes.seen.length, 0, '/ saw /custom traffic');
            assert.equal(custom.io.engine.id, engineId);
        });

        test('message -> message-back with mixed arguments and unicode', async () => {
            const s = client();
            await connected(s);
            const back = waitFor(s, 'message-back');
            s.emit('message', ...MIXED);
            assert.deepStrictEqual(await back, MIXED);
        });

        test('a 100 KB string echoes intact', async () => {
            const s = client();
            await connected(s);
            const big = bigString(100 * 1024) + '€😀';
            const back = waitFor(s, 'message-back');
            s.emit('message', big);
            const got = await back;
            assert.ok(got.length === 1 && got[0] === big, '100 KB string differs');
        });

        test('message-with-ack: the ack carries the same arguments', async () => {
            const s = client();
            await connected(s);
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', MIXED), MIXED);
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', []), []);
            const many = await Promise.all(
                Array.from({ length: 20 }, (_, i) => emitAck(s, 'message-with-ack', [i])),
            );
            many.forEach((r, i) => assert.deepStrictEqual(r, [i]));
        });

        test('binary both ways: several attachments, nested, and in an ack', async () => {
            const s = client();
            await connected(s);
            const args = [bytes(32, 1), 'mid', { deep: { list: [bytes(500, 2), { b: bytes(7, 3) }] } }];
            const back = waitFor(s, 'message-back');
            s.emit('message', ...args);
            assertSameData(await back, args);
            const ackArgs = [{ blob: bytes(2000, 4) }, bytes(1, 5)];
            assertSameData(await emitAck(s, 'message-with-ack', ackArgs), ackArgs);
        });

        test('server-to-client ack with binary in the request and the reply', async () => {
            const s = client();
            await connected(s);
            const request = ['req', bytes(9, 6)];
            const reply = [{ ok: true }, bytes(12, 7)];
            const seen = waitFor(s, 'server-ack-request');
            const result = waitFor(s, 'server-ack-result', { failOn: ['server-ack-timeout'] });
            s.once('server-ack-request', (...got) => got.pop()(...reply));
            s.emit('server-ack-please', ...request);
            const got = await seen;
            assert.equal(typeof got[got.length - 1], 'function', 'the request carries an ack id');
            assertSameData(got.slice(0, -1), request);
            assertSameData(await result, reply);
        });

        test('an unknown namespace is refused with "Invalid namespace"', async () => {
            const root = client();
            await connected(root);
            const bad = sibling(pool, root, '/nowhere');
            // The reference sends the v5-style object (44/nowhere,{"message":...}) to EIO3 too.
            const [err] = await waitFor(bad, 'error', { failOn: ['connect'] });
            assert.deepStrictEqual(err, { message: 'Invalid namespace' });
            await roundTrip(root);
            const lone = client({ nsp: '/elsewhere' });
            const [err2] = await waitFor(lone, 'error', { failOn: ['connect'] });
            assert.deepStrictEqual(err2, { message: 'Invalid namespace' });
        });

        test('disconnect-me gives "io server disconnect"; connect() again works', async () => {
            const s = client();
            await connected(s);
            const gone = waitFor(s, 'disconnect');
            const closed = engineClosed(s);
            s.emit('disconnect-me');
            assert.equal((await gone)[0], 'io server disconnect');
            assert.equal(s.connected, false);
            // With no namespace left the 2.x client closes its session itself.
            await closed;
            s.connect();
            assert.deepEqual(await connected(s), {});
            await roundTrip(s);
        });

        test('disconnect-me on `/custom` leaves `/` on the same session working', async () => {
            const root = client();
            const custom = sibling(pool, root, '/custom');
            await Promise.all([connected(root), connected(custom)]);
            const engineId = root.io.engine.id;
            const gone = waitFor(custom, 'disconnect');
            custom.emit('disconnect-me');
            assert.equal((await gone)[0], 'io server disconnect');
            await roundTrip(root);
            assert.equal(root.io.engine.id, engineId);
        });

        test('client disconnect, then connect() again on a new session', async () => {
            const s = client();
            await connected(s);
            const firstEngine = s.io.engine.id;
            const gone = waitFor(s, 'disconnect');
            const closed = engineClosed(s);
            s.disconnect();
            assert.equal((await gone)[0], 'io client disconnect');
            await closed;
            s.connect();
            assert.deepEqual(await connected(s), {});
            assert.notEqual(s.io.engine.id, firstEngine, 'a fresh Engine.IO session');
            await roundTrip(s);
        });

        test('Manager reconnects after the server drops the session (malformed packet)', async () => {
            const s = client({
                reconnection: true,
                reconnectionDelay: 50,
                reconnectionDelayMax: 200,
                randomizationFactor: 0,
            });
            await connected(s);
            const firstEngine = s.io.engine.id;
            const gone = waitFor(s, 'disconnect');
            const again = waitFor(s.io, 'reconnect', { timeout: 8000 });
            // Listen now: the greeting can arrive in the same read as the reconnect.
            const greeted = waitFor(s, 'auth', { timeout: 8000 });
            // Socket.IO packet type 9 does not exist: the server must close this session.
            s.io.engine.send('9');
            assert.match((await gone)[0], /^transport (close|error)$/);
            await again;
            assert.deepEqual((await greeted)[0], {});
            assert.equal(s.connected, true);
            assert.notEqual(s.io.engine.id, firstEngine);
            await roundTrip(s);
        });

        test('200 messages in a burst come back in order', async () => {
            const s = client();
            await connected(s);
            const all = collect(s, 'message-back', 200, { timeout: 10000 });
            for (let i = 0; i < 200; i++) s.emit('message', i, `m${i}`);
            const got = await all;
            got.forEach((args, i) => assert.deepStrictEqual(args, [i, `m${i}`]));
        });

        test('v2 and v4 clients share rooms and broadcasts', async () => {
            const old = client();
            const cur = newV4(pool, server.url, { transports: mode.transports });
            const outsider = client();
            await Promise.all([connected(old), connected(cur), connected(outsider)]);
            const room = 'mixed-room';
            assert.deepStrictEqual(await emitAck(old, 'join', [room]), [room]);
            assert.deepStrictEqual(await emitAck(cur, 'join', [room]), [room]);
            const outsiderGot = record(outsider, 'room-message');
            const payload = ['mixed', { n: 1 }, bytes(10, 8)];
            const got = [waitFor(old, 'room-message'), waitFor(cur, 'room-message')];
            cur.emit('to-room', room, ...payload);
            for (const g of got) assertSameData(await g, payload);
            await roundTrip(outsider);
            assert.equal(outsiderGot.seen.length, 0, 'a socket outside the room got room-message');

            const all = [old, cur, outsider].map((s) => waitFor(s, 'broadcast-message'));
            old.emit('broadcast', 'everyone', bytes(3, 9));
            for (const g of all) assertSameData(await g, ['everyone', bytes(3, 9)]);
        });
    });
}
