// Many concurrent real clients on one server: 50 socket.io-client 4.8.4 sockets over mixed
// transports, each with 20 acked messages in flight, plus one broadcast reaching all of them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
    MODES, SANE_TIMINGS, ClientPool, assertSameData, bytes, connected, emitAck, newV4, waitFor,
} from './util.mjs';

const CLIENTS = 50;
const MESSAGES = 20;
const LONG_WAIT = 20000;

let server;
const pool = new ClientPool();
before(async () => {
    server = await startServer(SANE_TIMINGS);
});
after(async () => {
    pool.closeAll();
    if (server) await server.stop();
});

test(`${CLIENTS} clients each get ${MESSAGES} acked messages back correctly`, async () => {
    const sockets = Array.from({ length: CLIENTS }, (_, i) =>
        newV4(pool, server.url, {
            transports: MODES[i % MODES.length].transports,
            auth: { client: i },
            timeout: LONG_WAIT,
        }));
    const auths = await Promise.all(sockets.map((s) => connected(s, { timeout: LONG_WAIT })));
    auths.forEach((auth, i) => assert.deepEqual(auth, { client: i }, `auth of client ${i}`));
    assert.equal(new Set(sockets.map((s) => s.id)).size, CLIENTS, 'socket ids are unique');
    assert.equal(new Set(sockets.map((s) => s.io.engine.id)).size, CLIENTS, 'engine sids are unique');

    const work = sockets.map(async (s, i) => {
        const sent = Array.from({ length: MESSAGES }, (_, j) => {
            const args = [i, j, `client ${i} message ${j}`];
            if (j % 5 === 0) args.push({ bin: bytes(64, i * MESSAGES + j) });
            return args;
        });
        const replies = await Promise.all(
            sent.map((args) => emitAck(s, 'message-with-ack', args, { timeout: LONG_WAIT })),
        );
        replies.forEach((reply, j) => assertSameData(reply, sent[j], `client ${i} message ${j}`));
        return replies.length;
    });
    const counts = await Promise.all(work);
    assert.equal(counts.reduce((a, b) => a + b, 0), CLIENTS * MESSAGES);

    const everyone = sockets.map((s) => waitFor(s, 'broadcast-message', { timeout: LONG_WAIT }));
    sockets[0].emit('broadcast', 'to all fifty');
    const got = await Promise.all(everyone);
    got.forEach((args) => assert.deepStrictEqual(args, ['to all fifty']));
});
