// The --max-payload limit seen by real clients (server started with --max-payload 10000): an
// oversized message drops only its own session, other clients carry on, the Manager reconnects.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
    MODES, SANE_TIMINGS, ClientPool, bigString, bytes, collect, connected, emitAck, newV2, newV4,
    roundTrip, assertSameData, upgraded, waitFor,
} from './util.mjs';

const LIMIT = 10000;

let server;
before(async () => {
    server = await startServer([...SANE_TIMINGS, '--max-payload', String(LIMIT)]);
});
after(async () => {
    if (server) await server.stop();
});

const clients = [
    { name: 'socket.io-client 4.8.4', make: newV4 },
    { name: 'socket.io-client 2.5.0', make: newV2 },
];

for (const kind of clients) {
    for (const mode of MODES) {
        describe(`${kind.name}, ${mode.name}, --max-payload ${LIMIT}`, () => {
            const pool = new ClientPool();
            afterEach(() => pool.closeAll());
            const client = (opts = {}) =>
                kind.make(pool, server.url, { transports: mode.transports, ...opts });
            // In the default set-up the limit is exercised after the upgrade, on the WebSocket.
            const ready = async (s) => {
                await connected(s);
                if (!mode.transports) assert.equal(await upgraded(s), 'websocket');
            };

            test('payloads under the limit pass', async () => {
                const s = client();
                await ready(s);
                const text = bigString(LIMIT / 2);
                assert.deepStrictEqual(await emitAck(s, 'message-with-ack', [text]), [text]);
                const blob = bytes(LIMIT / 2, 1);
                assertSameData(await emitAck(s, 'message-with-ack', [blob]), [blob]);
            });

            test('a 20 KB message drops only the sender; a bystander keeps working', async () => {
                const bystander = client();
                const sender = client();
                await Promise.all([ready(bystander), ready(sender)]);
                const bystanderEngine = bystander.io.engine.id;
                const gone = waitFor(sender, 'disconnect');
                sender.emit('message', bigString(20 * 1024));
                const [reason] = await gone;
                assert.match(reason, /^transport (close|error)$/);
                assert.equal(sender.connected, false);
                await roundTrip(bystander);
                const back = waitFor(bystander, 'message-back');
                bystander.emit('message', 'still here', bytes(100, 2));
                assertSameData(await back, ['still here', bytes(100, 2)]);
                assert.equal(bystander.io.engine.id, bystanderEngine, 'the bystander kept its session');
            });

            test('a 20 KB binary attachment drops the sender too', async () => {
                const bystander = client();
                const sender = client();
                await Promise.all([ready(bystander), ready(sender)]);
                const gone = waitFor(sender, 'disconnect');
                sender.emit('message', 'blob', bytes(20 * 1024, 3));
                const [reason] = await gone;
                assert.match(reason, /^transport (close|error)$/);
                await roundTrip(bystander);
            });

            test('the Manager reconnects after the oversized message dropped the session', async () => {
                const s = client({
                    reconnection: true,
                    reconnectionDelay: 50,
                    reconnectionDelayMax: 200,
                    randomizationFactor: 0,
                });
                await ready(s);
                const firstEngine = s.io.engine.id;
                const gone = waitFor(s, 'disconnect');
                const again = waitFor(s.io, 'reconnect', { timeout: 8000 });
                // Listen now: the greeting can arrive in the same read as the reconnect.
                const greeted = waitFor(s, 'auth', { timeout: 8000 });
                s.emit('message', bigString(20 * 1024));
                await gone;
                await again;
                assert.deepEqual((await greeted)[0], {});
                assert.equal(s.connected, true);
                assert.notEqual(s.io.engine.id, firstEngine, 'a new Engine.IO session');
                await roundTrip(s);
            });

            if (kind.make === newV4) {
                test('many small messages totalling far more than the limit all pass', async () => {
                    // The EIO4 client splits its polling POSTs by the advertised maxPayload.
                    const s = client();
                    await ready(s);
                    const all = collect(s, 'message-back', 40);
                    const chunk = bigString(1000);
                    for (let i = 0; i < 40; i++) s.emit('message', i, chunk);
                    const got = await all;
                    got.forEach((args, i) => {
                        assert.ok(args[0] === i && args[1] === chunk, `echo ${i}`);
                    });
                });
            }
        });
    }
}
