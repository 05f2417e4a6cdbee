// The crowdAI participant client's protocol, as crowdai 1.0.x speaks it over Engine.IO v3
// (socket.io-client 2.5.0 here): authenticate with API_KEY answered by authenticate_response
// and the ack; execute_function with string events on the response channel and the array of
// final messages in the ack; close_session; and the ERROR messages the client shows.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import ioV2 from 'socket.io-client-v2';
import { STEADY_TIMINGS, WAIT_MS, assertScoredOnce, createEnv, until } from './harness.mjs';

let env;
const who = {};
const CHALLENGE = 'IEEEInvestmentRankingChallenge'; // the client's name; the broker's id is lower case
const open = new Set();

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            who.ann = await e.addParticipant('ann');
            who.bob = await e.addParticipant('bob');
            await e.createChallenge(CHALLENGE.toLowerCase(), { pool: 'ieee-pool', primary: 'score:desc', secondary: 'sharpe:desc' });
            await e.addRound(CHALLENGE.toLowerCase(), 1, { parallel: 8 });
            await e.createChallenge('lonely', { pool: 'nobody-serves-this' });
            await e.addRound('lonely', 1);
        },
    });
});

afterEach(async () => {
    for (const s of open) s.close();
    open.clear();
    await env.closeClients();
});
after(() => env && env.cleanup());

/** A crowdAI-like client: EIO3, polling first then upgrade, as socketIO-client 0.7 does. */
class CrowdaiClient {
    constructor() {
        this.socket = ioV2(env.url, { forceNew: true, reconnection: false, transports: ['polling', 'websocket'] });
        open.add(this.socket);
        this.channels = new Map();
    }

    connected() {
        return new Promise((resolve, reject) => {
            this.socket.on('connect', resolve);
            this.socket.on('connect_error', reject);
        });
    }

    /** authenticate as the client does: the event and the ack both come. */
    async authenticate(apiKey, challengeId = CHALLENGE) {
        let ackArgs;
        const event = new Promise((resolve) => this.socket.once('authenticate_response', resolve));
        const ack = new Promise((resolve) => this.socket.emit('authenticate',
            { API_KEY: apiKey, challenge_id: challengeId, client_version: '1.0.21' }, (...a) => resolve(a)));
        const [response, acked] = await Promise.all([event, ack]);
        ackArgs = acked;
        this.token = response.session_token;
        return { response, ackArgs };
    }

    /** execute_function; resolves with {messages (parsed, in order), ack} once acked. */
    execute(fields) {
        const channel = fields.response_channel ?? `${CHALLENGE}::${Math.random().toString(16).slice(2)}`;
        const messages = [];
        this.socket.on(channel, (payload, second) => {
            assert.equal(typeof payload, 'string', 'each event is one JSON string');
            assert.equal(second, undefined, 'one argument only');
            messages.push(JSON.parse(payload));
        });
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no ack for execute_function; messages: ${JSON.stringify(messages)}`)), WAIT_MS);
            this.socket.emit('execute_function', {
                response_channel: channel,
                session_token: this.token,
                api_key: fields.api_key,
                challenge_id: CHALLENGE,
                function_name: 'grade_submission',
                dry_run: false,
                parallel: false,
                ...fields,
            }, (...ack) => {
                clearTimeout(timer);
                resolve({ messages, ack, channel });
            });
        });
    }
}

async function client() {
    const c = new CrowdaiClient();
    await c.connected();
    return c;
}

test('authenticate with API_KEY: authenticate_response SUCCESS and the ack, or ERROR with the reason', async () => {
    const c = await client();
    const ok = await c.authenticate(who.ann.apiKey);
    assert.equal(ok.response.response_type, 'CrowdAI.Event.Authentication.SUCCESS');
    assert.ok(ok.response.session_token.length > 20);
    assert.equal(ok.ackArgs.length, 1, 'the ack answers too, so the client does not wait 10 s');
    const padded = await c.authenticate(`  ${who.ann.apiKey}\n`);
    assert.equal(padded.response.response_type, 'CrowdAI.Event.Authentication.SUCCESS', 'the key is stripped');
    const bad = await c.authenticate('0'.repeat(32));
    assert.equal(bad.response.response_type, 'CrowdAI.Event.Authentication.ERROR');
    assert.match(bad.response.message, /Invalid API key/);
    const unknown = await c.authenticate(who.ann.apiKey, 'NoSuchChallenge');
    assert.equal(unknown.response.response_type, 'CrowdAI.Event.Authentication.ERROR');
    assert.match(unknown.response.message, /Unrecognized challenge/);
});

test('execute_function grade_submission: string events on the channel, final messages in the ack, score once', async () => {
    const g = await env.grader({
        pools: ['ieee-pool'],
        capacity: 2,
        plan: (job) => [{ progress: 40, message: 'scoring' }, { info: 'halfway there' }, { complete: job.data.value, secondary: 1.5 }],
    });
    const c = await client();
    await c.authenticate(who.ann.apiKey);
    const { messages, ack } = await c.execute({ api_key: who.ann.apiKey, parallel: true, data: [{ value: 0.25, round: 1 }, { value: 0.75 }] });
    // The ack: exactly one argument, the final messages in data_sequence_no order.
    assert.equal(ack.length, 1);
    const finals = ack[0];
    assert.deepEqual(finals.map((m) => [m.response_type, m.data_sequence_no, m.data.score, m.data.score_secondary]),
        [['CrowdAI.Event.Job.COMPLETE', 0, 0.25, 1.5], ['CrowdAI.Event.Job.COMPLETE', 1, 0.75, 1.5]]);
    for (const seq of [0, 1]) {
        const mine = messages.filter((m) => m.data_sequence_no === seq);
        assert.deepEqual(mine.map((m) => m.response_type.replace('CrowdAI.Event.Job.', '')),
            ['ENQUEUED', 'RUNNING', 'PROGRESS_UPDATE', 'INFO', 'COMPLETE']);
        const progress = mine.find((m) => m.response_type.endsWith('PROGRESS_UPDATE'));
        assert.equal(progress.data.percent_complete, 40);
        assert.equal(progress.data.data_sequence_no, seq);
        assert.equal(mine.find((m) => m.response_type.endsWith('INFO')).message, 'halfway there');
        assert.ok(mine.every((m) => m.job_id === mine[0].job_id && /^\d+$/.test(m.job_id)));
        await assertScoredOnce([g], Number(mine[0].job_id));
    }
    // The scores are on the leaderboard (ann's best).
    // (through the outbox: a moment after the final event)
    await until(async () => (await env.adminLeaderboard(CHALLENGE.toLowerCase()))[0]?.score === 0.75, { what: "ann's best score on the leaderboard" });
});

test('execute_function refusals: no grader online, bad session, other challenge, malformed', async () => {
    const c = await client();
    await c.authenticate(who.bob.apiKey, 'lonely');
    const none = await c.execute({ api_key: who.bob.apiKey, challenge_id: 'lonely', data: [{ x: 1 }] });
    assert.equal(none.ack[0].length, 1);
    assert.equal(none.ack[0][0].response_type, 'CrowdAI.Event.Job.ERROR');
    assert.match(none.ack[0][0].message, /No grader is online/);
    assert.deepEqual(none.messages.map((m) => m.response_type), ['CrowdAI.Event.Job.ERROR']);
    assert.equal((await env.adminSubmissions()).filter((s) => s.challenge_id === 'lonely').length, 0, 'nothing submitted');

    const badSession = await c.execute({ api_key: who.bob.apiKey, challenge_id: 'lonely', session_token: 'garbage', data: [{ x: 1 }] });
    assert.match(badSession.ack[0][0].message, /session is not valid/);
    const other = await c.execute({ api_key: who.bob.apiKey, data: [{ x: 1 }] });
    assert.match(other.ack[0][0].message, /Unrecognized challenge/);
    const noData = await c.execute({ api_key: who.bob.apiKey, challenge_id: 'lonely', data: [] });
    assert.match(noData.ack[0][0].message, /data must be a list/);
    const badChannel = await c.execute({ api_key: who.bob.apiKey, challenge_id: 'lonely', response_channel: 'a"b', data: [{ x: 1 }] });
    assert.match(badChannel.ack[0][0].message, /response_channel/);
    assert.equal(badChannel.messages.length, 0);
    // The socket still works: close_session answers as the old broker did.
    const closed = await new Promise((resolve) => c.socket.emit('close_session', { session_token: c.token }, resolve));
    assert.deepEqual(closed, { status: true, message: '' });
});

test('presign, PUT to the presigned URL, then grade_submission with the s3_key: the grader gets the file', async () => {
    const crypto = await import('node:crypto');
    const seen = [];
    const g = await env.grader({
        pools: ['ieee-pool'],
        plan: (job) => {
            seen.push(job);
            return [{ complete: 0.6 }];
        },
    });
    // The client asks without any Authorization header.
    const pres = await fetch(`${env.url}/api/external_graders/${who.ann.apiKey}/presign`);
    assert.equal(pres.status, 200);
    const p = await pres.json();
    assert.deepEqual(Object.keys(p).sort(), ['message', 'participant_id', 'presigned_url', 's3_key']);
    assert.equal(p.participant_id, who.ann.id);
    assert.ok(p.presigned_url.startsWith(`${env.url}/upload?`), p.presigned_url);
    const content = crypto.randomBytes(200000);
    const put = await fetch(p.presigned_url, { method: 'PUT', body: content });
    assert.equal(put.status, 200);
    const sha = crypto.createHash('sha256').update(content).digest('hex');

    const c = await client();
    await c.authenticate(who.ann.apiKey);
    const { ack } = await c.execute({ api_key: who.ann.apiKey, data: [{ file_key: p.s3_key, round: 1 }] });
    assert.equal(ack[0][0].response_type, 'CrowdAI.Event.Job.COMPLETE');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].file_key, sha);
    assert.equal(seen[0].data.file_key, p.s3_key, 'the grader also sees what the client sent');
    const res = await fetch(env.url + seen[0].file_url, { headers: { authorization: `Bearer ${env.graderKey}` } });
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(content), 'the grader downloads the file byte for byte');
    await assertScoredOnce([g], seen[0].submission_id);

    // Another participant cannot use that s3_key; a bad key gets no URL; a tampered URL is refused.
    const bob = await client();
    await bob.authenticate(who.bob.apiKey);
    const stolen = await bob.execute({ api_key: who.bob.apiKey, data: [{ file_key: p.s3_key }] });
    assert.match(stolen.ack[0][0].message, /file_key .* unknown/);
    assert.equal((await fetch(`${env.url}/api/external_graders/${'f'.repeat(32)}/presign`)).status, 401);
    const tampered = p.presigned_url.replace(/expires=(\d+)/, (m, n) => `expires=${Number(n) + 1000}`);
    const bad = await fetch(tampered, { method: 'PUT', body: 'x' });
    assert.deepEqual([bad.status, (await bad.json()).code], [403, 'BAD_SIGNATURE']);
    assert.equal((await fetch(`${env.url}/api/external_graders/${who.ann.apiKey}/other`)).status, 404);
});

test('POST /enqueue_grading_job as the webapp sends it: queued once per webapp submission id, graded', async () => {
    const seen = [];
    const g = await env.grader({ pools: ['ieee-pool'], plan: (job) => { seen.push(job); return [{ complete: 0.3 }]; } });
    const form = (fields) => new URLSearchParams(fields).toString();
    const post = async (body) => {
        const res = await fetch(`${env.url}/enqueue_grading_job`, {
            method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        return { status: res.status, body: await res.json() };
    };
    // Rails encodes an array of hashes as repeated data[][key] pairs.
    const body = form([
        ['response_channel', 'na'], ['session_token', 'na'], ['api_key', who.ann.apiKey],
        ['grader_id', CHALLENGE], ['challenge_client_name', CHALLENGE], ['function_name', 'grade_submission'],
        ['data[][file_key]', 'submissions/0b3a-preds.csv'], ['data[][submission_id]', '4242'],
        ['data[][participant_id]', '7'], ['data[][challenge_round_id]', '3'],
        ['dry_run', 'false'], ['parallel', 'false'], ['enqueue_only', 'true'], ['grader_api_key', env.graderKey],
    ]);
    const ok = await post(body);
    assert.deepEqual(ok, { status: 200, body: { response_type: 'CrowdAI.Event.SUCCESS', message: 'Successfully enqueued 1 Job', data: {} } });
    await until(() => seen.length === 1, { what: 'the job' });
    assert.deepEqual(seen[0].data, { file_key: 'submissions/0b3a-preds.csv', submission_id: '4242', participant_id: '7', challenge_round_id: '3' });
    await assertScoredOnce([g], seen[0].submission_id);
    // The webapp retrying the same submission does not make a second one.
    const again = await post(body);
    assert.equal(again.status, 200);
    const mine = (await env.adminSubmissions()).filter((s) => s.client_submission_id === 'webapp-4242');
    assert.equal(mine.length, 1);

    const badCaller = await post(body.replace(`grader_api_key=${env.graderKey}`, 'grader_api_key=nope'));
    assert.deepEqual([badCaller.status, badCaller.body.response_type, badCaller.body.message], [400, 'CrowdAI.Event.ERROR', 'Invalid grader_api_key']);
    const badKey = await post(body.replace(`api_key=${who.ann.apiKey}`, 'api_key=nope'));
    assert.deepEqual([badKey.status, badKey.body.message], [400, 'Invalid participant api_key']);
    const noData = await post(form([['api_key', who.ann.apiKey], ['grader_api_key', env.graderKey], ['challenge_client_name', CHALLENGE]]));
    assert.equal(noData.status, 400);
    assert.match(noData.body.message, /\[data\]/);
    assert.equal((await fetch(`${env.url}/enqueue_grading_job`)).status, 405);
});

test('a refusal of the registry reaches the client as the ERROR message of that job', async () => {
    await env.admin('round', 'update', CHALLENGE.toLowerCase(), '1', '--limit', '1', '--period', 'day');
    const g = await env.grader({ pools: ['ieee-pool'], plan: [{ complete: 0.5 }] });
    const c = await client();
    await c.authenticate(who.bob.apiKey);
    const first = await c.execute({ api_key: who.bob.apiKey, data: [{ v: 1 }] });
    assert.equal(first.ack[0][0].response_type, 'CrowdAI.Event.Job.COMPLETE');
    const second = await c.execute({ api_key: who.bob.apiKey, data: [{ v: 2 }] });
    assert.equal(second.ack[0][0].response_type, 'CrowdAI.Event.Job.ERROR');
    assert.match(second.ack[0][0].message, /limit/i);
    await until(() => g.jobs().length === 1, { what: 'one job only' });
});
