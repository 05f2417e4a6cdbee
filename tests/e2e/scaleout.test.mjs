// Two brokers on one Redis and one data directory (registry, secret, blobs): a participant on
// one broker is graded by a grader on the other, sees every event live, and is told WAITING
// only when no grader serves the pool on either broker (grader presence is shared in Redis).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Broker, Env, STEADY_TIMINGS, ScriptedGrader, assertScoredOnce, cid, freePort, sleep, until } from './harness.mjs';

let env;
let redis;
let brokerB;
const who = {};

async function startRedis(dir) {
    const port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' });
    await until(() => new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
            s.end();
            resolve(true);
        });
        s.on('error', () => resolve(false));
    }), { what: 'redis-server to listen' });
    return { port, proc };
}

before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-scale-'));
    env = new Env(dir);
    redis = await startRedis(path.join(dir, 'shared-redis'));
    env.graderKey = await env.addGraderKey('scale-graders');
    who.ann = await env.addParticipant('ann');
    await env.createChallenge('shared', { pool: 'shared-pool' });
    await env.addRound('shared', 1);
    const args = ['--redis', `127.0.0.1:${redis.port}`, ...STEADY_TIMINGS, '--waiting-repeat', '300'];
    await env.startBroker(args);
    brokerB = new Broker(dir, args);
    await brokerB.start();
});

after(async () => {
    if (brokerB) {
        await brokerB.stop();
        brokerB.checkSanitizers();
    }
    if (env) await env.cleanup();
    if (redis) redis.proc.kill('SIGKILL');
});

async function graderOnB(name, plan) {
    const g = new ScriptedGrader(brokerB.url, { key: env.graderKey, pools: ['shared-pool'], name, plan });
    env.clients.add(g);
    env.everyGrader.push(g);
    await g.connect();
    return g;
}

test('a grader on the other broker counts: no WAITING while it is busy, every event live', async () => {
    // Plans come with each submission's data; the grader takes one job at a time.
    const g = await graderOnB('on-b', undefined);
    const p = await env.participant(who.ann, 'shared');
    const busy = await p.submitOk({ client_submission_id: cid('so'), data: { plan: [{ pause: 'hold' }, { complete: 0.2 }] } });
    await g.waitJob(busy.submission_id);
    // Queued behind it while its only grader (on the other broker) is busy: not WAITING.
    const sub = await p.submitOk({
        client_submission_id: cid('so'),
        data: { plan: [{ progress: 30, message: 'a third' }, { info: 'halfway' }, { complete: 0.9 }] },
    });
    await sleep(900); // three WAITING repeats' time
    g.resume(busy.submission_id, 'hold');
    for (const s of [busy, sub]) {
        assert.equal((await p.waitFinal(s.submission_id)).type, 'COMPLETE');
        await assertScoredOnce([g], s.submission_id);
    }
    assert.deepEqual(p.types(sub.submission_id), ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'COMPLETE']);
    // /metrics of the broker without graders counts the other broker's grader.
    const text = await (await fetch(`${env.url}/metrics`)).text();
    assert.match(text, /^crowdai_graders_online_all\{pool="shared-pool"\} 1$/m);
    assert.doesNotMatch(text, /^crowdai_graders_online\{pool="shared-pool"\} [1-9]/m);
    await g.close();
});

test('no grader on either broker: WAITING at once and repeated; graded once one connects', async () => {
    const p = await env.participant(who.ann, 'shared');
    // The grader of the last test left cleanly: its presence was withdrawn at once.
    const sub = await p.submitOk({ client_submission_id: cid('so'), data: {} });
    await p.waitEvent(sub.submission_id, 'WAITING');
    await until(() => p.types(sub.submission_id).filter((t) => t === 'WAITING').length >= 2, { what: 'WAITING repeated' });
    const g = await graderOnB('late', [{ complete: 0.4 }]);
    assert.equal((await p.waitFinal(sub.submission_id)).type, 'COMPLETE');
    await assertScoredOnce([g], sub.submission_id);
    // Once graded, WAITING is not repeated any more.
    const waits = p.types(sub.submission_id).filter((t) => t === 'WAITING').length;
    await sleep(700);
    await p.settle();
    assert.equal(p.types(sub.submission_id).filter((t) => t === 'WAITING').length, waits);
    await g.close();
});
