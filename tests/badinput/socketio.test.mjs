// Bad Socket.IO packets on /socket.io/ (namespaces, ack ids, payloads, binary attachments): each case gets
// the reaction docs/CONFORMANCE.md specifies (CONNECT_ERROR, or the Engine.IO session closed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    eioWebSocket, sioWebSocket, pollingHandshake, pollGet, pollPost, splitPayload, expectPollingSessionGone,
} from './raw.mjs';
import { startTestServer, connectGoodClient, assertAlive, assertNoFdLeak } from './harness.mjs';

const MAX_PAYLOAD = 20000;
const MAX_ATTACHMENTS = 4;
const SIO = '/socket.io/';

/** A placeholder for attachment `num` (any JSON value, to build broken ones). */
function ph(num) {
    return `{"_placeholder":true,"num":${JSON.stringify(num)}}`;
}

/** Binary attachment i: a few distinct bytes. */
function att(i) {
    return Buffer.from([0xb0, i, 0xff - i]);
}

describe('Socket.IO layer', { timeout: 120000 }, () => {
    let server;
    let good;
    let port;

    before(async () => {
        server = await startTestServer(['--max-payload', String(MAX_PAYLOAD), '--max-attachments', String(MAX_ATTACHMENTS)]);
        port = server.port;
        good = await connectGoodClient(server.url);
    });

    after(async () => {
        if (good) good.close();
        if (server) await server.stop();
    });

    /**
     * Sends `items` (strings as text frames, Buffers as binary frames) on a Socket.IO WebSocket session that is
     * connected to `/` (or not, with connect: false) and expects the server to close it. Returns the text
     * frames received before the close.
     */
    async function expectClosed(items, { connect = true } = {}) {
        const { ws } = connect ? await sioWebSocket(port) : await eioWebSocket(port, SIO);
        try {
            for (const item of items) {
                if (Buffer.isBuffer(item)) await ws.sendBinary(item);
                else await ws.sendText(item);
            }
            const res = await ws.waitClose(5000);
            return res.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
        } finally {
            ws.close();
        }
    }

    function assertNoEcho(texts) {
        for (const t of texts) assert.ok(!t.includes('message-back') && !t.startsWith('43'), `server acted on it: ${t}`);
    }

    describe('namespaces', () => {
        it('an EVENT before any CONNECT closes the session', async () => {
            assertNoEcho(await expectClosed(['42["message","x"]'], { connect: false }));
            await good.check('event before connect');
        });

        it('an EVENT for a namespace the socket has not joined closes the session', async () => {
            assertNoEcho(await expectClosed(['42/custom,["message","x"]']));
            await good.check('event on unjoined nsp');
        });

        it('CONNECT to an unknown namespace gets CONNECT_ERROR and the session stays usable', async () => {
            const { ws } = await eioWebSocket(port, SIO);
            try {
                await ws.sendText('40/nope');
                assert.equal(await ws.nextData(), '44/nope,{"message":"Invalid namespace"}');
                await ws.sendText('40/custom,');
                const reply = await ws.nextData();
                assert.match(reply, /^40\/custom,\{"sid":"[^"]+"\}$/);
            } finally {
                ws.close();
            }
            await good.check('unknown nsp');
        });

        for (const len of [257, 10240]) {
            it(`CONNECT to a ${len}-byte namespace gets CONNECT_ERROR`, async () => {
                const nsp = '/' + 'n'.repeat(len - 1);
                const { ws } = await eioWebSocket(port, SIO);
                try {
                    await ws.sendText(`40${nsp},`);
                    assert.equal(await ws.nextData(), `44${nsp},{"message":"Invalid namespace"}`);
                } finally {
                    ws.close();
                }
                await good.check(`nsp ${len}`);
            });
        }

        it('a namespace with a comma inside (the rest is not JSON) closes the session', async () => {
            await expectClosed(['40/cus,tom,{}'], { connect: false });
            await good.check('nsp with comma');
        });
    });

    describe('ack ids and payloads', () => {
        it('control: a 15-digit ack id is acked with the same id', async () => {
            const { ws } = await sioWebSocket(port);
            try {
                await ws.sendText('42123456789012345["message-with-ack",1,"two"]');
                assert.equal(await ws.nextData(), '43123456789012345[1,"two"]');
            } finally {
                ws.close();
            }
            await good.check('ack 15 digits');
        });

        const bad = [
            ['a 16-digit ack id', '421234567890123456["message-with-ack",1]'],
            ['the ack id 99999999999999999999', '4299999999999999999999["message-with-ack",1]'],
            ['a non-numeric ack id', '42abc["message-with-ack",1]'],
            ['a negative ack id', '42-1["message-with-ack",1]'],
            ['an EVENT payload that is an object', '42{"message":"x"}'],
            ['an EVENT payload that is a string', '42"message"'],
            ['an EVENT payload that is an empty array', '42[]'],
            ['an EVENT without payload', '42'],
            ['an EVENT payload that is not JSON', '42["message",x]'],
            ['the unknown Socket.IO packet type 7', '47["message"]'],
            ['the unknown Socket.IO packet type 9', '49'],
            ['a non-digit Socket.IO packet type', '4x["message"]'],
        ];
        for (const [name, packet] of bad) {
            it(`${name} closes the session`, async () => {
                assertNoEcho(await expectClosed([packet]));
                await good.check(name);
            });
        }
    });

    describe('binary attachments', () => {
        async function expectBinaryEcho(count) {
            const { ws } = await sioWebSocket(port);
            try {
                const phs = Array.from({ length: count }, (_, i) => ph(i)).join(',');
                await ws.sendText(`45${count}-["message",${phs}]`);
                for (let i = 0; i < count; i++) await ws.sendBinary(att(i));
                const header = await ws.nextData();
                const m = typeof header === 'string' && header.match(/^45(\d+)-(.*)$/s);
                assert.ok(m, `expected a BINARY_EVENT, got ${JSON.stringify(header)}`);
                assert.equal(Number(m[1]), count);
                const placeholders = Array.from({ length: count }, (_, i) => ({ _placeholder: true, num: i }));
                const expected = ['message-back', ...placeholders];
                assert.deepEqual(JSON.parse(m[2]), expected);
                for (let i = 0; i < count; i++) assert.deepEqual(await ws.nextData(), att(i));
            } finally {
                ws.close();
            }
        }

        it('control: one attachment is echoed', async () => {
            await expectBinaryEcho(1);
            await good.check('binary control');
        });

        it(`control: ${MAX_ATTACHMENTS} attachments (--max-attachments) are echoed`, async () => {
            await expectBinaryEcho(MAX_ATTACHMENTS);
            await good.check('binary at limit');
        });

        const over = MAX_ATTACHMENTS + 1;
        const bad = [
            [`${over} attachments (over --max-attachments)`,
                [`45${over}-["message",${Array.from({ length: over }, (_, i) => ph(i)).join(',')}]`,
                    ...Array.from({ length: over }, (_, i) => att(i))]],
            ['an attachment count of 100000', ['45100000-["message",' + ph(0) + ']', att(0)]],
            ['an attachment count of -1', ['45-1-["message",' + ph(0) + ']', att(0)]],
            ['an attachment count of 0 with a placeholder', ['450-["message",' + ph(0) + ']', att(0)]],
            ['a count of 2 with one placeholder', ['452-["message",' + ph(0) + ']', att(0), att(1)]],
            ['a placeholder num that is a string (CVE-2022-2421 shape)', ['451-["message",' + ph('splice') + ']', att(0)]],
            ['a placeholder num that is a float', ['451-["message",' + ph(0.5) + ']', att(0)]],
            ['a placeholder num out of range', ['451-["message",' + ph(1) + ']', att(0)]],
            ['a negative placeholder num', ['451-["message",' + ph(-1) + ']', att(0)]],
            ['fewer frames than announced, then a new packet',
                ['452-["message",' + ph(0) + ',' + ph(1) + ']', att(0), '42["message","next"]']],
            ['a binary frame that no packet announced', [att(0)]],
            ['a second binary packet while attachments are awaited',
                ['451-["message",' + ph(0) + ']', '451-["message",' + ph(0) + ']', att(0), att(1)]],
        ];
        for (const [name, items] of bad) {
            it(`${name} closes the session`, async () => {
                assertNoEcho(await expectClosed(items));
                await good.check(name);
            });
        }

        it('more frames than announced closes the session (after the first packet was echoed)', async () => {
            await expectClosed(['451-["message",' + ph(0) + ']', att(0), att(1)]);
            await good.check('more frames than announced');
        });
    });

    describe('over polling: the session closes', () => {
        /** Opens a polling Socket.IO session and connects `/`; resolves its sid. */
        async function pollingConnected() {
            const { sid } = await pollingHandshake(port, SIO);
            assert.equal((await pollPost(port, SIO, sid, '40')).status, 200);
            const packets = [];
            for (let i = 0; i < 3 && packets.length < 2; i++) {
                const res = await pollGet(port, SIO, sid);
                assert.equal(res.status, 200);
                packets.push(...splitPayload(res.text));
            }
            assert.match(packets[0], /^40\{"sid":"[^"]+"\}$/);
            assert.equal(packets[1], '42["auth",{}]');
            return sid;
        }

        it('an EVENT before CONNECT', async () => {
            const { sid } = await pollingHandshake(port, SIO);
            const res = await pollPost(port, SIO, sid, '42["message","x"]');
            assert.ok(res.status === 200 || res.status === 400, `POST answered ${res.status}`);
            await expectPollingSessionGone(port, SIO, sid);
            await good.check('polling event before connect');
        });

        it('a base64 attachment whose placeholder num is a string', async () => {
            const sid = await pollingConnected();
            const res = await pollPost(port, SIO, sid, `451-["message",${ph('splice')}]\x1ebAQID`);
            assert.ok(res.status === 200 || res.status === 400, `POST answered ${res.status}`);
            await expectPollingSessionGone(port, SIO, sid);
            await good.check('polling bad placeholder');
        });
    });

    describe('the server survives', () => {
        it('no fd leak after 50 sessions closed for bad packets', async () => {
            const packets = ['42[]', '42abc["x"]', '451-["message",' + ph('splice') + ']'];
            await assertNoFdLeak(server, async (i) => {
                const items = [packets[i % packets.length]];
                if (i % packets.length === 2) items.push(att(0));
                await expectClosed(items);
            });
            await good.check('fd batch');
        });

        it('the server process is alive and the good client was never disconnected', async () => {
            assertAlive(server);
            await good.check('end of file');
        });
    });
});
