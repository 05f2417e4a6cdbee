// Interop with socket.io-client 4.8.4 (EIO4 / Socket.IO v5) over polling only, websocket only
// and polling-then-upgrade: auth, events, acks both ways, binary, namespaces, rooms, reconnects.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
    MODES, SANE_TIMINGS, ClientPool, assertSameData, bigString, bytes, collect, connected,
    emitAck, newV4, record, refused, roundTrip, sibling, upgraded, waitFor,
} from './util.mjs';

let server;
before(async () => {
    server = await startServer(SANE_TIMINGS);
});
after(async () => {
    if (server) await server.stop();
});

const MIXED = [
    0, -1.5, 2 ** 53 - 1, 1e-7, 'text', '', true, false, null,
    [1, [2, [3, []]]],
    { a: { b: { c: [1, 'x', null, { d: true }] } }, 'key with spaces': 'v', empty: {} },
];

const UNICODE = [
    'héllo wörld', '日本語のテキスト', 'emoji 😀🚀👩‍👩‍👧', { 'clé 🔑': 'valeur ✓' },
    '\ud800', 'lone low \udfff in text', 'nul \u0000 byte', 'line seps \u2028\u2029',
    'quotes " and \\ backslash', 'control \u0001\u001f',
];

for (const mode of MODES) {
    describe(`socket.io-client 4.8.4, ${mode.name}`, () => {
        const pool = new ClientPool();
        afterEach(() => pool.closeAll());
        const client = (opts = {}) => newV4(pool, server.url, { transports: mode.transports, ...opts });

        test('connects with an auth object and gets it echoed in `auth`', async () => {
            const auth = { token: 'abc-123', user: { id: 7, roles: ['a', 'b'] }, n: 1.5, ok: true };
            const s = client({ auth });
            const initial = s.io.engine.transport.name;
            assert.deepEqual(await connected(s), auth);
            assert.equal(typeof s.id, 'string');
            assert.notEqual(s.id, s.io.engine.id, 'socket id must differ from the engine sid');
            if (mode.transports) {
                assert.equal(s.io.engine.transport.name, mode.expected);
            } else {
                assert.equal(initial, 'polling', 'the default set-up starts on polling');
                assert.equal(await upgraded(s), 'websocket');
                assert.equal(s.io.engine.transport.name, 'websocket');
                await roundTrip(s);
            }
        });

        test('connects without auth and gets `{}` in `auth`', async () => {
            const s = client();
            assert.deepEqual(await connected(s), {});
        });

        test('message -> message-back with mixed arguments', async () => {
            const s = client();
            await connected(s);
            const back = waitFor(s, 'message-back');
            s.emit('message', ...MIXED);
            assert.deepStrictEqual(await back, MIXED);
        });

        test('message with no arguments -> message-back with none', async () => {
            const s = client();
            await connected(s);
            const back = waitFor(s, 'message-back');
            s.emit('message');
            assert.deepStrictEqual(await back, []);
        });

        test('unicode, emoji, lone surrogates and control characters survive the echo', async () => {
            const s = client();
            await connected(s);
            const back = waitFor(s, 'message-back');
            s.emit('message', ...UNICODE);
            const got = await back;
            assert.deepStrictEqual(got, UNICODE);
            assert.equal(got[4].length, 1);
            assert.equal(got[4].charCodeAt(0), 0xd800);
            const acked = await emitAck(s, 'message-with-ack', UNICODE);
            assert.deepStrictEqual(acked, UNICODE);
        });

        test('100 KB strings (ASCII and multi-byte) echo intact', async () => {
            const s = client();
            await connected(s);
            const ascii = bigString(100 * 1024);
            const multi = 'é€😀'.repeat(12 * 1024);
            const back = waitFor(s, 'message-back');
            s.emit('message', ascii, { nested: multi });
            const got = await back;
            assert.equal(got.length, 2);
            assert.ok(got[0] === ascii, 'ASCII string differs');
            assert.ok(got[1].nested === multi, 'multi-byte string differs');
            const acked = await emitAck(s, 'message-with-ack', [multi]);
            assert.ok(acked.length === 1 && acked[0] === multi, 'acked multi-byte string differs');
        });

        test('message-with-ack: the ack carries the same arguments', async () => {
            const s = client();
            await connected(s);
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', MIXED), MIXED);
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', []), []);
            assert.deepStrictEqual(await emitAck(s, 'message-with-ack', ['one']), ['one']);
        });

        test('concurrent acks are matched to the right callers', async () => {
            const s = client();
            await connected(s);
            const replies = await Promise.all(
                Array.from({ length: 30 }, (_, i) => emitAck(s, 'message-with-ack', [i, `v${i}`])),
            );
            replies.forEach((r, i) => assert.deepStrictEqual(r, [i, `v${i}`]));
        });

        test('binary echo: several attachments, nested, typed arrays, empty', async () => {
            const s = client();
            await connected(s);
            const args = [
                bytes(16, 1),
                new Uint8Array([0, 1, 2, 253, 254, 255]),
                'between',
                { nested: { deep: [bytes(300, 2), { leaf: bytes(5, 3) }] }, n: 3 },
                bytes(64 * 1024, 4),
                Buffer.alloc(0),
            ];
            const back = waitFor(s, 'message-back');
            s.emit('message', ...args);
            const got = await back;
            assertSameData(got, args);
            const first = got[0];
            assert.ok(Buffer.isBuffer(first) || first instanceof ArrayBuffer, 'arrives as binary');
        });

        test('binary in an ack (client acks are BINARY_ACK on the way back)', async () => {
            const s = client();
            await connected(s);
            const args = [{ blob: bytes(1000, 5) }, bytes(3, 6), 'tail'];
            assertSameData(await emitAck(s, 'message-with-ack', args), args);
        });

        test('server-to-client ack: server-ack-request is acked and the reply comes back', async () => {
            const s = client();
            await connected(s);
            const request = ['please', { n: 42 }, bytes(10, 7)];
            const reply = ['thanks', { list: [1, 2, 3] }, bytes(20, 8), '😀'];
            const seen = waitFor(s, 'server-ack-request');
            const result = waitFor(s, 'server-ack-result', { failOn: ['server-ack-timeout'] });
            s.once('server-ack-request', (...got) => {
                const ack = got.pop();
                ack(...reply);
            });
            s.emit('server-ack-please', ...request);
            const got = await seen;
            assert.equal(typeof got[got.length - 1], 'function', 'the request carries an ack id');
            assertSameData(got.slice(0, -1), request);
            assertSameData(await result, reply);
        });

        test('server-to-client ack with an empty reply', async () => {
            const s = client();
            await connected(s);
            s.once('server-ack-request', (...got) => got.pop()());
            const result = waitFor(s, 'server-ack-result', { failOn: ['server-ack-timeout'] });
            s.emit('server-ack-please', 'x');
            assert.deepStrictEqual(await result, []);
        });

        test('`/` and `/custom` share one Engine.IO session and stay separate', async () => {
            const root = client({ auth: { ns: 'root' } });
            const custom = sibling(pool, root, '/custom', { auth: { ns: 'custom' } });
            const [rootAuth, customAuth] = await Promise.all([connected(root), connected(custom)]);
            assert.deepEqual(rootAuth, { ns: 'root' });
            assert.deepEqual(customAuth, { ns: 'custom' });
            assert.equal(root.io, custom.io, 'same Manager');
            assert.ok(root.io.engine.id, 'engine sid');
            assert.notEqual(root.id, custom.id);
            const engineId = root.io.engine.id;
            const rootEchoes = record(root, 'message-back');
            const back = waitFor(custom, 'message-back');
            custom.emit('message', 'for custom', bytes(4, 9));
            assertSameData(await back, ['for custom', bytes(4, 9)]);
            await roundTrip(root);
            assert.equal(rootEchoes.seen.length, 0, '/ must not see /custom traffic');
            const customEchoes = record(custom, 'message-back');
            const rootBack = waitFor(root, 'message-back');
            root.emit('message', 'for root');
            assert.deepStrictEqual(await rootBack, ['for root']);
            await roundTrip(custom);
            assert.equal(customEchoes.seen.length, 0, '/custom must not see / traffic');
            assert.deepStrictEqual(await emitAck(custom, 'message-with-ack', [1]), [1]);
            assert.equal(root.io.engine.id, engineId, 'still one engine session');
        });

        test('an unknown namespace is refused with "Invalid namespace"', async () => {
            const lone = client({ nsp: '/does-not-exist' });
            const err = await refused(lone);
            assert.equal(err.message, 'Invalid namespace');

            const root = client();
            await connected(root);
            const bad = sibling(pool, root, '/nope');
            assert.equal((await refused(bad)).message, 'Invalid namespace');
            assert.ok(root.connected, 'the refusal must not affect `/`');
            await roundTrip(root);
        });

        test('auth {reject:true} is refused with "Not authorized", on / and /custom', async () => {
            const s = client({ auth: { reject: true, who: 'x' } });
            assert.equal((await refused(s)).message, 'Not authorized');
            const c = client({ nsp: '/custom', auth: { reject: true } });
            assert.equal((await refused(c)).message, 'Not authorized');

            const root = client();
            await connected(root);
            const engineId = root.io.engine.id;
            const bad = sibling(pool, root, '/custom', { auth: { reject: true } });
            assert.equal((await refused(bad)).message, 'Not authorized');
            await roundTrip(root);
            bad.auth = { reject: false, again: 1 };
            bad.connect();
            assert.deepEqual(await connected(bad), { reject: false, again: 1 });
            assert.equal(bad.io.engine.id, engineId, 'the retry used the same engine session');
        });

        test('rooms: join, to-room, leave decide who receives', async () => {
            const [a, b, c] = [client(), client(), client()];
            await Promise.all([a, b, c].map((s) => connected(s)));
            const room = `room-${mode.expected}`;
            assert.deepStrictEqual(await emitAck(a, 'join', [room]), [room]);
            assert.deepStrictEqual(await emitAck(b, 'join', [room]), [room]);
            const cGot = record(c, 'room-message');

            let aGot = waitFor(a, 'room-message');
            let bGot = waitFor(b, 'room-message');
            a.emit('to-room', room, 'hello room', { n: 1 }, bytes(8, 10));
            assertSameData(await aGot, ['hello room', { n: 1 }, bytes(8, 10)]);
            assertSameData(await bGot, ['hello room', { n: 1 }, bytes(8, 10)]);

            aGot = waitFor(a, 'room-message');
            bGot = waitFor(b, 'room-message');
            c.emit('to-room', room, 'from outside');
            assert.deepStrictEqual(await aGot, ['from outside']);
            assert.deepStrictEqual(await bGot, ['from outside']);
            await roundTrip(c);
            assert.equal(cGot.seen.length, 0, 'a socket outside the room received room-message');

            assert.deepStrictEqual(await emitAck(b, 'leave', [room]), [room]);
            const bAfter = record(b, 'room-message');
            aGot = waitFor(a, 'room-message');
            a.emit('to-room', room, 'after leave');
            assert.deepStrictEqual(await aGot, ['after leave']);
            await roundTrip(b);
            await roundTrip(c);
            assert.equal(bAfter.seen.length, 0, 'a socket that left still received room-message');
            assert.equal(cGot.seen.length, 0);
        });

        test('rooms are per namespace', async () => {
            const a = client();
            const aCustom = sibling(pool, a, '/custom');
            const b = client({ nsp: '/custom' });
            await Promise.all([a, aCustom, b].map((s) => connected(s)));
            await emitAck(a, 'join', ['shared-name']);
            await emitAck(b, 'join', ['shared-name']);
            const customGot = record(aCustom, 'room-message');
            const bGot = record(b, 'room-message');
            const aGot = waitFor(a, 'room-message');
            a.emit('to-room', 'shared-name', 'root only');
            assert.deepStrictEqual(await aGot, ['root only']);
            await roundTrip(b);
            await roundTrip(aCustom);
            assert.equal(bGot.seen.length, 0, '/custom room got a / room message');
            assert.equal(customGot.seen.length, 0);
        });

        test('broadcast reaches every socket of the namespace and no other namespace', async () => {
            const a = client();
            const b = client();
            const bCustom = sibling(pool, b, '/custom');
            const d = client({ nsp: '/custom' });
            await Promise.all([a, b, bCustom, d].map((s) => connected(s)));
            const customSeen = [record(bCustom, 'broadcast-message'), record(d, 'broadcast-message')];
            const payload = ['to all', { x: [1, 2] }, bytes(6, 11)];
            const got = [waitFor(a, 'broadcast-message'), waitFor(b, 'broadcast-message')];
            a.emit('broadcast', ...payload);
            for (const g of got) assertSameData(await g, payload);
            await roundTrip(bCustom);
            await roundTrip(d);
            for (const r of customSeen) assert.equal(r.seen.length, 0, '/custom got a / broadcast');
            for (const r of customSeen) r.stop();

            const rootSeen = [record(a, 'broadcast-message'), record(b, 'broadcast-message')];
            const customGot = [waitFor(bCustom, 'broadcast-message'), waitFor(d, 'broadcast-message')];
            d.emit('broadcast', 'custom all');
            for (const g of customGot) assert.deepStrictEqual(await g, ['custom all']);
            await roundTrip(a);
            await roundTrip(b);
            for (const r of rootSeen) assert.equal(r.seen.length, 0, '/ got a /custom broadcast');
        });

        test('disconnect-me: "io server disconnect", session survives, connect() again', async () => {
            const s = client({ auth: { k: 'v' } });
            const other = sibling(pool, s, '/custom');
            await Promise.all([connected(s), connected(other)]);
            const engineId = s.io.engine.id;
            const gone = waitFor(s, 'disconnect');
            s.emit('disconnect-me');
            const [reason] = await gone;
            assert.equal(reason, 'io server disconnect');
            assert.equal(s.connected, false);
            await roundTrip(other);
            assert.equal(other.io.engine.id, engineId, 'the Engine.IO session stays open');
            s.connect();
            assert.deepEqual(await connected(s), { k: 'v' });
            assert.equal(s.io.engine.id, engineId, 'reconnected over the same session');
            await roundTrip(s);
        });

        test('disconnect-me on the only namespace, then connect() again', async () => {
            const s = client();
            await connected(s);
            const gone = waitFor(s, 'disconnect');
            s.emit('disconnect-me');
            assert.equal((await gone)[0], 'io server disconnect');
            s.connect();
            await connected(s);
            await roundTrip(s);
        });

        test('client disconnect, then connect() again on a new session', async () => {
            const s = client({ auth: { again: true } });
            await connected(s);
            const firstEngine = s.io.engine.id;
            const gone = waitFor(s, 'disconnect');
            s.disconnect();
            assert.equal((await gone)[0], 'io client disconnect');
            s.connect();
            assert.deepEqual(await connected(s), { again: true });
            assert.notEqual(s.io.engine.id, firstEngine, 'a fresh Engine.IO session');
            await roundTrip(s);
            const back = waitFor(s, 'message-back');
            s.emit('message', 'after reconnect');
            assert.deepStrictEqual(await back, ['after reconnect']);
        });

        test('Manager reconnects after the server drops the session (malformed packet)', async () => {
            const s = client({
                auth: { retry: 1 },
                reconnection: true,
                reconnectionDelay: 50,
                reconnectionDelayMax: 200,
                randomizationFactor: 0,
            });
            await connected(s);
            const bystander = client();
            await connected(bystander);
            const firstEngine = s.io.engine.id;
            const gone = waitFor(s, 'disconnect');
            const reconnected = waitFor(s.io, 'reconnect', { timeout: 8000 });
            // Listen now: the greeting can arrive in the same read as the reconnect.
            const greeted = waitFor(s, 'auth', { timeout: 8000 });
            // Socket.IO packet type 9 does not exist: the server must close this session.
            s.io.engine.send('9');
            const [reason] = await gone;
            assert.match(reason, /^transport (close|error)$/);
            await reconnected;
            assert.deepEqual((await greeted)[0], { retry: 1 });
            assert.equal(s.connected, true);
            assert.notEqual(s.io.engine.id, firstEngine);
            await roundTrip(s);
            await roundTrip(bystander);
        });

        test('200 messages in a burst come back in order', async () => {
            const s = client();
            await connected(s);
            const all = collect(s, 'message-back', 200, { timeout: 10000 });
            for (let i = 0; i < 200; i++) s.emit('message', i, `m${i}`);
            const got = await all;
            got.forEach((args, i) => assert.deepStrictEqual(args, [i, `m${i}`]));
        });

        if (!mode.transports) {
            test('messages around the upgrade arrive once and in order', async () => {
                const s = client();
                const ready = connected(s);
                const engine = s.io.engine;
                const received = record(s, 'message-back');
                const sent = [];
                const burst = (tag) => {
                    for (let i = 0; i < 5; i++) {
                        const item = `${tag}-${i}`;
                        s.emit('message', item);
                        sent.push(item);
                    }
                };
                const done = waitFor(engine, 'upgrade');
                burst('before-connect');
                s.once('connect', () => burst('on-connect'));
                engine.once('upgrading', () => burst('on-upgrading'));
                engine.once('upgrade', () => burst('on-upgrade'));
                await Promise.all([ready, done]);
                burst('after');
                assert.equal(engine.transport.name, 'websocket');
                // The echoes precede the ack of this later packet on the same connection.
                await roundTrip(s);
                assert.deepStrictEqual(received.seen.map((a) => a[0]), sent);
            });
        }
    });
}
