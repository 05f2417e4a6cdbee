// Bad WebSocket framing (RFC 6455) on the raw Engine.IO echo: each case must get the close code
// docs/CONFORMANCE.md specifies, while a well-behaved client on the same server carries on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eioWebSocket, encodeFrame } from './raw.mjs';
import { startTestServer, connectGoodClient, assertAlive, assertNoFdLeak } from './harness.mjs';

const MAX_PAYLOAD = 10000;

describe('WebSocket framing', { timeout: 120000 }, () => {
    let server;
    let good;

    before(async () => {
        server = await startTestServer(['--max-payload', String(MAX_PAYLOAD)]);
        good = await connectGoodClient(server.url);
    });

    after(async () => {
        if (good) good.close();
        if (server) await server.stop();
    });

    /** Opens a websocket-only session on the echo, sends `frames` (encodeFrame options or raw Buffers) and
     * resolves what waitClose reports. */
    async function sendAndWaitClose(frames, timeoutMs = 5000) {
        const { ws } = await eioWebSocket(server.port);
        try {
            const bytes = frames.map((f) => (Buffer.isBuffer(f) ? f : encodeFrame(f)));
            await ws.sendRaw(Buffer.concat(bytes));
            return await ws.waitClose(timeoutMs);
        } finally {
            ws.close();
        }
    }

    async function expectCloseCode(frames, code, what) {
        const res = await sendAndWaitClose(frames);
        assert.equal(res.closeFrame, true, `${what}: TCP closed without a close frame`);
        assert.equal(res.code, code, `${what}: close code`);
    }

    describe('controls (the harness and the echo work)', () => {
        it('a text and a binary message are echoed', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                await ws.sendText('4hello €');
                assert.equal(await ws.nextData(), '4hello €');
                await ws.sendBinary(Buffer.from([0, 1, 2, 255]));
                assert.deepEqual(await ws.nextData(), Buffer.from([0, 1, 2, 255]));
            } finally {
                ws.close();
            }
            await good.check('echo control');
        });

        it('a close 1000 is answered with close 1000 and the TCP connection closes', async () => {
            const payload = Buffer.from([0x03, 0xe8]);
            await expectCloseCode([{ opcode: 8, payload }], 1000, 'normal close');
            await good.check('close 1000');
        });

        it('a 125-byte ping gets a pong with the same payload', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                const payload = Buffer.alloc(125, 0x61);
                await ws.send({ opcode: 9, payload });
                const f = await ws.nextFrame();
                assert.ok(f, 'connection ended instead of a pong');
                assert.equal(f.opcode, 10);
                assert.deepEqual(f.payload, payload);
            } finally {
                ws.close();
            }
            await good.check('ping 125');
        });

        it('a ping between the fragments of a message is answered and the message still echoed', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                await ws.sendRaw(Buffer.concat([
                    encodeFrame({ opcode: 1, payload: '4ab', fin: false }),
                    encodeFrame({ opcode: 9, payload: 'p' }),
                    encodeFrame({ opcode: 0, payload: 'cd', fin: true }),
                ]));
                const pong = await ws.nextFrame();
                assert.ok(pong, 'connection ended instead of a pong');
                assert.equal(pong.opcode, 10);
                assert.equal(pong.payload.toString(), 'p');
                assert.equal(await ws.nextData(), '4abcd');
            } finally {
                ws.close();
            }
            await good.check('interleaved ping');
        });
    });

    describe('protocol errors: close 1002', () => {
        it('an unmasked client frame', async () => {
            await expectCloseCode([{ opcode: 1, payload: '4hi', mask: false }], 1002, 'unmasked');
            await good.check('unmasked');
        });

        for (const rsv of [4, 2, 1]) {
            it(`RSV bits ${rsv.toString(2).padStart(3, '0')} set (no extension negotiated)`, async () => {
                await expectCloseCode([{ opcode: 1, payload: '4hi', rsv }], 1002, `rsv ${rsv}`);
                await good.check(`rsv ${rsv}`);
            });
        }

        for (const opcode of [3, 7, 0xb, 0xf]) {
            it(`unknown opcode 0x${opcode.toString(16)}`, async () => {
                await expectCloseCode([{ opcode, payload: 'x' }], 1002, `opcode ${opcode}`);
                await good.check(`opcode ${opcode}`);
            });
        }

        it('a fragmented control frame (ping without FIN)', async () => {
            await expectCloseCode([{ opcode: 9, payload: 'a', fin: false }], 1002, 'fragmented ping');
            await good.check('fragmented ping');
        });

        it('a 126-byte ping (control frame over 125 bytes)', async () => {
            await expectCloseCode([{ opcode: 9, payload: Buffer.alloc(126, 0x61) }], 1002, 'long ping');
            await good.check('long ping');
        });

        it('a continuation frame without a start', async () => {
            await expectCloseCode([{ opcode: 0, payload: '4x', fin: true }], 1002, 'lone continuation');
            await good.check('lone continuation');
        });

        it('a new data frame inside a fragmented message', async () => {
            await expectCloseCode([
                { opcode: 1, payload: '4a', fin: false },
                { opcode: 1, payload: '4b', fin: true },
            ], 1002, 'text inside fragmented text');
            await good.check('new data frame inside fragments');
        });

        it('a 64-bit length with the top bit set', async () => {
            const frame = encodeFrame({ opcode: 2, lengthBytes: 8, declaredLength: 0x8000000000000005n });
            await expectCloseCode([Buffer.concat([frame, Buffer.alloc(5, 1)])], 1002, '64-bit length MSB');
            await good.check('64-bit MSB');
        });

        it('a close frame with a 1-byte payload', async () => {
            await expectCloseCode([{ opcode: 8, payload: Buffer.from([0x03]) }], 1002, '1-byte close');
            await good.check('1-byte close');
        });

        for (const code of [0, 999, 1004, 1005, 1006, 1015, 2000, 5000]) {
            it(`a close frame with the invalid code ${code}`, async () => {
                const payload = Buffer.alloc(2);
                payload.writeUInt16BE(code, 0);
                await expectCloseCode([{ opcode: 8, payload }], 1002, `close code ${code}`);
                await good.check(`close code ${code}`);
            });
        }
    });

    describe('size limits: close 1009', () => {
        it('a message of exactly --max-payload bytes is echoed', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                const text = '4' + 'm'.repeat(MAX_PAYLOAD - 1);
                await ws.sendText(text);
                assert.equal(await ws.nextData(), text);
            } finally {
                ws.close();
            }
            await good.check('max-payload control');
        });

        it('a single frame one byte over --max-payload', async () => {
            await expectCloseCode([{ opcode: 1, payload: '4' + 'm'.repeat(MAX_PAYLOAD) }], 1009, 'max-payload + 1');
            await good.check('max-payload + 1');
        });

        it('fragments that together exceed --max-payload', async () => {
            const part = 'f'.repeat(2001);
            const frames = [{ opcode: 1, payload: '4' + part, fin: false }];
            for (let i = 0; i < 3; i++) frames.push({ opcode: 0, payload: part, fin: false });
            frames.push({ opcode: 0, payload: part, fin: true });
            await expectCloseCode(frames, 1009, 'fragments over max-payload');
            await good.check('fragments over max-payload');
        });

        it('a 64-bit length of 2^63-1 (header only, body never sent)', async () => {
            const frame = encodeFrame({ opcode: 2, lengthBytes: 8, declaredLength: 0x7fffffffffffffffn });
            await expectCloseCode([frame], 1009, 'length 2^63-1');
            await good.check('2^63-1');
        });

        it('a message of 1,024 one-byte fragments is echoed', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                const frames = [encodeFrame({ opcode: 1, payload: '4', fin: false })];
                for (let i = 1; i < 1023; i++) frames.push(encodeFrame({ opcode: 0, payload: String(i % 10), fin: false }));
                frames.push(encodeFrame({ opcode: 0, payload: 'z', fin: true }));
                assert.equal(frames.length, 1024);
                await ws.sendRaw(Buffer.concat(frames));
                let expected = '4';
                for (let i = 1; i < 1023; i++) expected += String(i % 10);
                assert.equal(await ws.nextData(), expected + 'z');
            } finally {
                ws.close();
            }
            await good.check('1024 fragments');
        });

        it('endless continuation frames (over 1,024 fragments, well under --max-payload)', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                // Fragments go out in batches until the server answers or 2,000 one-byte fragments (2 KB) were sent.
                await ws.send({ opcode: 1, payload: '4', fin: false });
                for (let sent = 1; sent < 2000 && !ws.conn.ended && ws.conn.buf.length === 0; sent += 100) {
                    const batch = [];
                    for (let i = 0; i < 100; i++) batch.push(encodeFrame({ opcode: 0, payload: 'c', fin: false }));
                    if (!(await ws.sendRaw(Buffer.concat(batch)))) break;
                }
                const res = await ws.waitClose(5000);
                assert.equal(res.closeFrame, true, 'TCP closed without a close frame');
                assert.equal(res.code, 1009);
            } finally {
                ws.close();
            }
            await good.check('endless continuation');
        });
    });

    describe('invalid UTF-8 in text: close 1007', () => {
        const cases = [
            ['overlong C0 80', [Buffer.from([0x34, 0xc0, 0x80])]],
            ['surrogate ED A0 80', [Buffer.from([0x34, 0xed, 0xa0, 0x80])]],
            ['above U+10FFFF: F4 90 80 80', [Buffer.from([0x34, 0xf4, 0x90, 0x80, 0x80])]],
            ['a sequence truncated at the end of the message', [Buffer.from([0x34, 0x41, 0xe2, 0x82])]],
            ['a sequence split across fragments and never completed',
                [Buffer.from([0x34, 0xe2, 0x82]), Buffer.from([0x41])]],
        ];
        for (const [name, parts] of cases) {
            it(name, async () => {
                const frames = parts.map((payload, i) => ({
                    opcode: i === 0 ? 1 : 0,
                    payload,
                    fin: i === parts.length - 1,
                }));
                await expectCloseCode(frames, 1007, name);
                await good.check(name);
            });
        }

        it('control: a valid character split across fragments is echoed', async () => {
            const { ws } = await eioWebSocket(server.port);
            try {
                await ws.send({ opcode: 1, payload: Buffer.from([0x34, 0xe2, 0x82]), fin: false });
                await ws.send({ opcode: 0, payload: Buffer.from([0xac, 0x21]), fin: true });
                assert.equal(await ws.nextData(), '4€!');
            } finally {
                ws.close();
            }
            await good.check('split euro');
        });
    });

    describe('the server survives', () => {
        it('no fd leak after 50 connections sending unmasked frames', async () => {
            await assertNoFdLeak(server, async () => {
                const res = await sendAndWaitClose([{ opcode: 1, payload: '4x', mask: false }]);
                assert.equal(res.code, 1002);
            });
            await good.check('fd batch');
        });

        it('the server process is alive and the good client was never disconnected', async () => {
            assertAlive(server);
            await good.check('end of file');
        });
    });
});
