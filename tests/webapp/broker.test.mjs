// The broker end to end with --registry webapp: the real broker (its private redis-server, the
// local SQLite mirror) against the crowdAI webapp test double, a socket.io participant and a
// scripted grader. The webapp validates the key, creates the submission, gets "initiated" and
// exactly one "graded" with the score; its refusals reach the participant word for word.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { DAY, HOUR, STEADY_TIMINGS, cid, createEnv, until } from '../e2e/harness.mjs';
import { MESSAGES, WebappDouble } from './webapp-double.mjs';

const TOKEN = 'e2e-broker-token-5c1d';
const erin = { apiKey: 'key-erin', name: 'erin' };

let double;
let env;
let configDir;

before(async () => {
    double = new WebappDouble({ adminKey: TOKEN });
    await double.listen();
    const now = Date.now();
    double.reset({
        participants: [{ id: 901, api_key: erin.apiKey, name: 'erin' }],
        challenges: [{
            id: 5, challenge_client_name: 'wa-demo',
            rounds: [{ id: 51, start: now - HOUR, end: now + DAY, submission_limit: 5, period: 'day' }],
        }],
    });
    // The webapp settings go in a configuration file, as docs/CONFIG.md advises for the key.
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wa-conf-'));
    const config = path.join(configDir, 'broker.conf');
    fs.writeFileSync(config, `registry = webapp\nwebapp-url = ${double.url}\nwebapp-key = ${TOKEN}\n` +
        'webapp-timeout = 5000\nwebapp-key-cache = 60000\n', { mode: 0o600 });
    env = await createEnv({
        brokerArgs: [...STEADY_TIMINGS, '--config', config],
        seed: async (e) => {
            await e.createChallenge('wa-demo', { pool: 'wa-pool' });
            await e.addRound('wa-demo', 1);
        },
    });
});

afterEach(() => env && env.closeClients());
after(async () => {
    try {
        if (env) {
            assert.ok(!env.broker.stderr().includes(TOKEN), 'the webapp key is never logged');
            await env.cleanup();
        }
    } finally {
        if (double) await double.close();
        if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
    }
});

/** The double's requests for one webapp submission's PATCHes that it took (202). */
function takenPatches(webappId, grading) {
    return double.log.filter((e) => e.method === 'PATCH' && e.path === `/api/external_graders/${webappId}` &&
        e.params.grading_status === grading && e.status === 202);
}

test('authenticate, submit, grade: the webapp gets the submission and exactly one graded PATCH', () => env.explain(async () => {
    const g = await env.grader({ pools: ['wa-pool'], name: 'wa-grader' });
    const p = await env.participant(erin, 'wa-demo');
    assert.equal(double.log.filter((e) => e.method === 'GET' && e.path === '/api/external_graders/key-erin').length, 1);

    const csid = cid('wa');
    const ack = await p.submitOk({ client_submission_id: csid, data: { score: 0.75 }, description: 'via the webapp' });
    assert.equal(ack.submissions_remaining, 4);
    assert.equal(typeof ack.reset_at, 'string');
    const created = double.submissions.filter((s) => s.meta && s.meta.client_submission_id === csid);
    assert.equal(created.length, 1, 'one webapp submission');
    const webappId = created[0].id;
    assert.equal(created[0].description_markdown, 'via the webapp');

    const final = await p.waitFinal(ack.submission_id);
    assert.equal(final.type, 'COMPLETE', JSON.stringify(final));
    // The mirror is COMPLETE once the outbox applied the score, which went to the webapp first.
    await until(async () => {
        const rows = await env.adminSubmissions();
        const row = rows.find((r) => r.id === ack.submission_id);
        return row && row.state === 'COMPLETE';
    }, { what: 'the local mirror to be COMPLETE' });
    await p.settle();
    assert.equal(takenPatches(webappId, 'initiated').length, 1);
    const graded = double.log.filter((e) => e.method === 'PATCH' && e.path === `/api/external_graders/${webappId}` &&
        e.params.grading_status === 'graded');
    assert.equal(graded.length, 1, `exactly one graded PATCH: ${JSON.stringify(graded)}`);
    assert.equal(graded[0].status, 202);
    assert.equal(Number(graded[0].params.score), 0.75);
    assert.equal(created[0].grading_status, 'graded');
    assert.equal(created[0].score, 0.75);

    // The leaderboard comes from the mirror, under the name the webapp gave on creation.
    const lb = await p.leaderboard('wa-demo');
    assert.equal(lb.ok, true, JSON.stringify(lb));
    assert.deepEqual(lb.rows.map((r) => [r.participant, r.submission_id, r.score]), [['erin', ack.submission_id, 0.75]]);

    // A retry of the same submission is answered by the mirror: no new webapp submission.
    const again = await p.submitOk({ client_submission_id: csid, data: { score: 0.75 }, description: 'via the webapp' });
    assert.equal(again.existing, true);
    assert.equal(again.submission_id, ack.submission_id);
    assert.equal(double.submissions.filter((s) => s.meta && s.meta.client_submission_id === csid).length, 1);
    assert.deepEqual(g.errors(), []);
}));

test('a refusal of the webapp reaches the participant word for word, with its quota', () => env.explain(async () => {
    const p = await env.participant(erin, 'wa-demo');
    double.challenges[0].rounds[0].submission_limit = 1; // the earlier submission used it
    const posts = double.log.filter((e) => e.method === 'POST').length;
    const ack = await p.submit({ client_submission_id: cid('wa-refused'), data: { score: 0.5 } });
    assert.equal(ack.ok, false, JSON.stringify(ack));
    assert.equal(ack.code, 'LIMIT_REACHED');
    assert.equal(ack.message, MESSAGES.noSlots);
    assert.equal(ack.submissions_remaining, 0);
    assert.ok(!Number.isNaN(Date.parse(ack.reset_at)), `reset_at ${ack.reset_at}`);
    assert.ok(double.log.filter((e) => e.method === 'POST').length > posts, 'the webapp was asked');
}));

test('a website submission posted to /enqueue_grading_job is graded without a second webapp submission', () => env.explain(async () => {
    const g = await env.grader({ pools: ['wa-pool'], name: 'wa-site', plan: [{ complete: 0.4 }] });
    // The website made the submission itself, as the webapp does before calling the broker.
    double.challenges[0].rounds[0].submission_limit = 10; // the refusal test used them up
    const [status, made] = double.create({ api_key: erin.apiKey, challenge_client_name: 'wa-demo', grading_status: 'submitted' });
    assert.equal(status, 202, JSON.stringify(made));
    const webappId = made.submission_id;
    const posts = double.log.filter((e) => e.method === 'POST').length;
    const form = new URLSearchParams([
        ['api_key', erin.apiKey], ['challenge_client_name', 'wa-demo'], ['function_name', 'grade_submission'],
        ['data[][file_key]', 'site/preds.csv'], ['data[][submission_id]', String(webappId)],
        ['enqueue_only', 'true'], ['grader_api_key', env.graderKey],
    ]).toString();
    const res = await fetch(`${env.url}/enqueue_grading_job`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).message, 'Successfully enqueued 1 Job');
    await until(() => takenPatches(webappId, 'graded').length === 1, { what: 'the graded PATCH of the website submission' });
    assert.equal(double.log.filter((e) => e.method === 'POST').length, posts, 'no second webapp submission');
    assert.equal(Number(takenPatches(webappId, 'graded')[0].params.score), 0.4);
    assert.equal(g.jobs().length, 1);
}));
