// Hostile and unusual JSON in Socket.IO EVENT payloads: syntax errors and deep nesting close the session,
// odd but valid JSON is acked back byte for byte (docs/CONFORMANCE.md, "JSON is validated for syntax only").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sioWebSocket } from './raw.mjs';
import { startTestServer, connectGoodClient, assertAlive, assertNoFdLeak } from './harness.mjs';

const MAX_PAYLOAD = 2000000;
const DEPTH_LIMIT = 64;

describe('JSON in Socket.IO payloads', { timeout: 120000 }, () => {
    let server;
    let good;
    let port;
    let ackId = 100;

    before(async () => {
        server = await startTestServer(['--max-payload', String(MAX_PAYLOAD)]);
        port = server.port;
        good = await connectGoodClient(server.url);
    });

    after(async () => {
        if (good) good.close();
        if (server) await server.stop();
    });

    /** Sends `message-with-ack` with the argument text `arg` and expects the ack to carry exactly that text. */
    async function expectAckedVerbatim(arg) {
        const { ws } = await sioWebSocket(port);
        try {
            const id = ++ackId;
            await ws.sendText(`42${id}["message-with-ack",${arg}]`);
            const reply = await ws.nextData(10000);
            assert.equal(typeof reply, 'string');
            const expected = `43${id}[${arg}]`;
            if (reply !== expected) {
                const show = (s) => JSON.stringify(s.length > 120 ? `${s.slice(0, 60)}…${s.slice(-60)}` : s);
                assert.fail(`ack differs: got ${show(reply)} (${reply.length} chars), `
                    + `expected ${show(expected)} (${expected.length} chars)`);
            }
        } finally {
            ws.close();
        }
    }

    /** Sends the raw EVENT text `packet` (without the Engine.IO 4) and expects the session to be closed unanswered. */
    async function expectClosed(packet) {
        const { ws } = await sioWebSocket(port);
        try {
            await ws.sendText(`4${packet}`);
            const res = await ws.waitClose(5000);
            for (const f of res.frames)
                assert.ok(!f.payload.toString().startsWith('43'), 'the server acked the bad payload');
        } finally {
            ws.close();
        }
    }

    /** `depth` nested arrays around 0. */
    function nestedArrays(depth) {
        return '['.repeat(depth) + '0' + ']'.repeat(depth);
    }

    describe('valid JSON is acked unchanged', () => {
        const cases = [
            ['ordinary values (control)', '1,"a",{"b":[true,false,null]},-2.5,"é"'],
            ['a duplicate key', '{"a":1,"a":2}'],
            ['minus zero', '-0'],
            ['a number that overflows a double: 1e999999', '1e999999'],
            ['a lone surrogate escape', '"\\ud800"'],
            ['an escaped NUL inside a string', '"a\\u0000b"'],
            ['a 1 MB string', JSON.stringify('s'.repeat(1 << 20))],
            ['a 100,000-member object', '{' + Array.from({ length: 100000 }, (_, i) => `"a${i}":0`).join(',') + '}'],
        ];
        for (const [name, arg] of cases) {
            it(name, async () => {
                await expectAckedVerbatim(arg);
                await good.check(name);
            });
        }

        it(`nesting of exactly ${DEPTH_LIMIT} (the EVENT array included)`, async () => {
            await expectAckedVerbatim(nestedArrays(DEPTH_LIMIT - 1));
            await good.check('depth at limit');
        });
    });

    describe('invalid JSON closes the session', () => {
        const cases = [
            ['NaN', '2["message-with-ack",NaN]'],
            ['trailing garbage', '2["message-with-ack",1]x'],
            ['a second value after the array', '2["message-with-ack",1][2]'],
            ['a byte order mark before the array', '2\ufeff["message-with-ack",1]'],
            ['a trailing comma', '2["message-with-ack",1,]'],
            ['an unterminated string', '2["message-with-ack","abc]'],
            [`nesting of ${DEPTH_LIMIT + 1} arrays`, `2["message-with-ack",${nestedArrays(DEPTH_LIMIT)}]`],
            [`nesting of ${DEPTH_LIMIT + 1} with objects`,
                `2["message-with-ack",${'{"a":'.repeat(DEPTH_LIMIT)}0${'}'.repeat(DEPTH_LIMIT)}]`],
            ['nesting of 10,000', `2["message-with-ack",${nestedArrays(10000)}]`],
        ];
        for (const [name, packet] of cases) {
            it(name, async () => {
                await expectClosed(packet);
                await good.check(name);
            });
        }
    });

    describe('the server survives', () => {
        it('no fd leak after 50 sessions closed for bad JSON', async () => {
            const packets = ['2["message-with-ack",NaN]', '2["message-with-ack",1]x', '2["message-with-ack","abc]'];
            await assertNoFdLeak(server, (i) => expectClosed(packets[i % packets.length]));
            await good.check('fd batch');
        });

        it('the server process is alive and the good client was never disconnected', async () => {
            assertAlive(server);
            await good.check('end of file');
        });
    });
});
