// crowdai login: the configuration file (mode 0600 in a 0700 directory) that later commands
// use, and CROWDAI_BROKER / CROWDAI_API_KEY and --broker / --api-key overriding it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, createEnv } from '../e2e/harness.mjs';
import { CliUser, EXIT, closedPort } from './cli.mjs';

let env;
const who = {};
const users = [];

function user(name) {
    const u = new CliUser(name);
    users.push(u);
    return u;
}

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            for (const name of ['dora', 'emil']) who[name] = await e.addParticipant(name);
            await e.createChallenge('keys', { pool: 'keys-pool' });
            await e.addRound('keys', 1);
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    for (const u of users) u.cleanup();
    if (env) await env.cleanup();
});

function mode(p) {
    return fs.statSync(p).mode & 0o777;
}

test('login writes a 0600 file in a 0700 directory that later commands use', () => env.explain(async () => {
    await env.grader({ pools: ['keys-pool'], name: 'keys', plan: [{ complete: 0.5 }] });
    const dora = user('dora');
    const r = (await dora.run(['login', '--broker', env.url, '--api-key', who.dora.apiKey])).exits(EXIT.OK);
    const conf = path.join(dora.home, '.config', 'crowdai', 'config');
    assert.deepEqual(r.one('login'), { kind: 'login', config: conf, broker: env.url, checked: false });
    assert.equal(mode(conf), 0o600);
    assert.equal(mode(path.dirname(conf)), 0o700);
    const text = fs.readFileSync(conf, 'utf8');
    assert.match(text, new RegExp(`^broker = ${env.url}$`, 'm'));
    assert.match(text, new RegExp(`^api_key = ${who.dora.apiKey}$`, 'm'));

    // No flags and no environment: the stored settings are used.
    const sub = (await dora.run(['submit', dora.predictions().path, '--challenge', 'keys', '--wait'])).exits(EXIT.OK);
    const id = sub.one('summary').submission_id;
    assert.equal(sub.one('summary').state, 'COMPLETE');
    const row = (await env.adminSubmissions()).find((s) => s.id === id);
    assert.equal(row.participant_id, who.dora.id, 'submitted as the stored key\'s participant');
    assert.equal((await dora.run(['status', String(id)])).exits(EXIT.OK).one('status').state, 'COMPLETE');

    // CROWDAI_API_KEY overrides the file, and --api-key overrides CROWDAI_API_KEY.
    const badEnv = { CROWDAI_API_KEY: 'wrong-key' };
    const refused = (await dora.run(['status', String(id)], { env: badEnv })).exits(EXIT.REFUSED);
    assert.equal(refused.one('error').code, 'BAD_API_KEY');
    (await dora.run(['status', String(id), '--api-key', who.dora.apiKey], { env: badEnv })).exits(EXIT.OK);
    // Another participant's key through the environment: the submission is not theirs.
    const emil = (await dora.run(['status', String(id)], { env: { CROWDAI_API_KEY: who.emil.apiKey } })).exits(EXIT.REFUSED);
    assert.equal(emil.one('error').code, 'NOT_FOUND');

    // CROWDAI_BROKER overrides the file, and --broker overrides CROWDAI_BROKER.
    const down = { CROWDAI_BROKER: `http://127.0.0.1:${await closedPort()}` };
    (await dora.run(['leaderboard', 'keys'], { env: down })).exits(EXIT.CONNECTION);
    const board = (await dora.run(['leaderboard', 'keys', '--broker', env.url], { env: down })).exits(EXIT.OK);
    assert.equal(board.one('leaderboard').rows[0].participant, 'dora');

    // XDG_CONFIG_HOME moves the file: another directory, nothing stored there yet.
    const xdg = path.join(dora.home, 'xdg');
    const none = (await dora.run(['leaderboard', 'keys'], { env: { XDG_CONFIG_HOME: xdg } })).exits(EXIT.USAGE);
    assert.match(none.stderr, /crowdai login/);
    (await dora.run(['login', '--broker', env.url, '--api-key', who.emil.apiKey], { env: { XDG_CONFIG_HOME: xdg } })).exits(EXIT.OK);
    assert.equal(mode(path.join(xdg, 'crowdai', 'config')), 0o600);
    const asEmil = (await dora.run(['status', String(id)], { env: { XDG_CONFIG_HOME: xdg } })).exits(EXIT.REFUSED);
    assert.equal(asEmil.one('error').code, 'NOT_FOUND', 'emil\'s key from the other file');
}));

test('login reads what is not given from standard input, and with --challenge checks the key first', () => env.explain(async () => {
    const emil = user('emil');
    const conf = path.join(emil.home, '.config', 'crowdai', 'config');
    (await emil.run(['login'], { input: `${env.url}\n${who.emil.apiKey}\n` })).exits(EXIT.OK);
    assert.match(fs.readFileSync(conf, 'utf8'), new RegExp(`api_key = ${who.emil.apiKey}\\n`));
    assert.equal(mode(conf), 0o600);

    // An empty answer keeps what was stored; the key is checked and accepted.
    const checked = (await emil.run(['login', '--challenge', 'keys'], { input: '\n\n' })).exits(EXIT.OK);
    assert.equal(checked.one('login').checked, true);
    assert.match(fs.readFileSync(conf, 'utf8'), new RegExp(`api_key = ${who.emil.apiKey}\\n`));

    // A key the broker refuses is not stored.
    const before = fs.readFileSync(conf, 'utf8');
    const bad = (await emil.run(['login', '--challenge', 'keys', '--api-key', 'bad-key'], { input: '\n' })).exits(EXIT.REFUSED);
    assert.equal(bad.one('error').code, 'BAD_API_KEY');
    assert.match(bad.stderr, /Nothing was stored/);
    assert.equal(fs.readFileSync(conf, 'utf8'), before);

    // Nothing to read and nothing stored: a usage error.
    const fresh = user('fresh');
    const empty = (await fresh.run(['login'], { input: '' })).exits(EXIT.USAGE);
    assert.match(empty.stderr, /no broker URL/);
    assert.equal(fs.existsSync(path.join(fresh.home, '.config', 'crowdai', 'config')), false);

    // A directory that was too open is made private.
    const loose = user('loose');
    fs.mkdirSync(path.join(loose.home, '.config', 'crowdai'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(loose.home, '.config', 'crowdai'), 0o755);
    (await loose.run(['login', '--broker', env.url, '--api-key', who.emil.apiKey])).exits(EXIT.OK);
    assert.equal(mode(path.join(loose.home, '.config', 'crowdai')), 0o700);
}));
