// SIGTERM with real clients attached (v4 and v2, every transport): every client is told its
// connection ended and the server exits with status 0.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
    MODES, SANE_TIMINGS, ClientPool, connected, newV2, newV4, roundTrip, sibling, waitFor,
} from './util.mjs';

let server;
const pool = new ClientPool();
before(async () => {
    server = await startServer(SANE_TIMINGS);
});
after(async () => {
    pool.closeAll();
    if (server) await server.stop();
});

test('SIGTERM disconnects every client and exits with 0', async () => {
    const clients = [];
    for (const mode of MODES) {
        clients.push([`v4 ${mode.name}`, newV4(pool, server.url, { transports: mode.transports })]);
        clients.push([`v2 ${mode.name}`, newV2(pool, server.url, { transports: mode.transports })]);
    }
    clients.push(['v4 /custom', sibling(pool, clients[0][1], '/custom')]);
    await Promise.all(clients.map(([, s]) => connected(s)));
    await Promise.all(clients.map(([, s]) => roundTrip(s)));

    const gone = clients.map(([name, s]) =>
        waitFor(s, 'disconnect').then(([reason]) => [name, reason]));
    const code = await server.stop();
    assert.equal(code, 0, 'exit status after SIGTERM');
    for (const [name, reason] of await Promise.all(gone)) {
        // The reference closes the Engine.IO sessions; a Socket.IO DISCONNECT is fine too.
        assert.match(reason, /^(io server disconnect|transport close|transport error)$/, name);
    }
});
