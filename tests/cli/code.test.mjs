// crowdai submit --code DIR [--consent], crowdai code consent and crowdai code list against the
// real broker: the code packed and uploaded, archived into the challenge's git repository
// (checked with the git command line), consent given later, a retry that stays the same
// submission while other code makes a new one, and hostile code refused with nothing submitted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, createEnv, until } from '../e2e/harness.mjs';
import { CliUser, EXIT } from './cli.mjs';

let env;
const who = {};
const users = [];
const SLOW = { timeout: 30000, interval: 200 };

function user(name) {
    const u = new CliUser(name);
    users.push(u);
    return u;
}

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            for (const name of ['alice', 'bob', 'carol']) who[name] = await e.addParticipant(name);
            for (const ch of ['code', 'later', 'hostile']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    for (const u of users) u.cleanup();
    if (env) await env.cleanup();
});

function creds(p) {
    return ['--broker', env.url, '--api-key', p.apiKey];
}

const repoOf = (challenge) => path.join(env.dir, 'archive', `${challenge}.git`);
const git = (challenge, ...args) => execFileSync('git', ['--git-dir', repoOf(challenge), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Writes files ({name: content | {link: target}}) into a new directory of u's home. */
function codeDir(u, name, files) {
    const dir = path.join(u.home, name);
    for (const [file, content] of Object.entries(files)) {
        const p = path.join(dir, file);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (typeof content === 'object') fs.symlinkSync(content.link, p);
        else fs.writeFileSync(p, content);
    }
    return dir;
}

/** The rows of `crowdai code list --json`. */
async function codeList(u, p, challenge) {
    const r = (await u.run(['code', 'list', '--challenge', challenge, '--json', ...creds(p)])).exits(EXIT.OK);
    const lines = r.lines;
    for (const l of lines) assert.equal(l.kind, 'code', r.toString());
    return lines;
}

function rowUntil(u, p, challenge, id, state) {
    return until(async () => (await codeList(u, p, challenge)).find((r) => r.submission_id === id && r.state === state),
        { ...SLOW, what: `submission ${id} ${state} in crowdai code list` });
}

test('submit --code --consent: the code is uploaded, archived, and on the participant branch', async () => {
    const alice = user('alice');
    const file = alice.predictions();
    const dir = codeDir(alice, 'src', { 'main.py': 'print("alice")\n', 'lib/util.py': 'X = 1\n', 'lib/here': { link: '../main.py' } });
    const args = ['submit', file.path, '--challenge', 'code', '--code', dir, '--consent', '--json', ...creds(who.alice)];
    const r = (await alice.run(args)).exits(EXIT.OK);
    const uploads = r.kind('upload');
    assert.equal(uploads.length, 2, r.toString());
    assert.equal(uploads[0].code, undefined);
    assert.equal(uploads[1].code, true);
    assert.equal(uploads[1].file, dir);
    assert.match(uploads[1].file_key, /^[0-9a-f]{64}$/);
    const sub = r.one('submitted');
    assert.equal(sub.existing, false);
    const id = sub.submission_id;

    const row = await rowUntil(alice, who.alice, 'code', id, 'ARCHIVED');
    assert.match(row.commit, /^[0-9a-f]{40}$/);
    assert.equal(row.code_key, uploads[1].file_key);
    assert.equal(row.round, 1);
    assert.equal(row.challenge_id, 'code');
    assert.match(row.consent_at, /^\d{4}-\d\d-\d\dT/);
    const log = git('code', 'log', '--format=%H %s', `participant/${who.alice.id}`);
    assert.equal(log, `${row.commit} Submission ${id} (round 1)\n`);
    assert.equal(git('code', 'show', `${row.commit}:main.py`), 'print("alice")\n');
    assert.equal(git('code', 'ls-tree', '-r', '--name-only', row.commit), 'lib/here\nlib/util.py\nmain.py\n');

    // The same command again is the same submission; other code makes a new one.
    const again = (await alice.run(args)).exits(EXIT.OK).one('submitted');
    assert.equal(again.submission_id, id);
    assert.equal(again.existing, true);
    assert.equal(again.client_submission_id, sub.client_submission_id);
    fs.writeFileSync(path.join(dir, 'main.py'), 'print("alice, better")\n');
    const other = (await alice.run(args)).exits(EXIT.OK).one('submitted');
    assert.equal(other.existing, false);
    assert.notEqual(other.submission_id, id);
    assert.notEqual(other.client_submission_id, sub.client_submission_id);
    const second = await rowUntil(alice, who.alice, 'code', other.submission_id, 'ARCHIVED');
    assert.equal(git('code', 'show', `${second.commit}:main.py`), 'print("alice, better")\n');
    assert.equal(git('code', 'rev-parse', `participant/${who.alice.id}~1`).trim(), row.commit);
});

test('without --consent nothing is archived until crowdai code consent', async () => {
    const bob = user('bob');
    const dir = codeDir(bob, 'work', { 'model.py': 'bob = 2\n' });
    const r = (await bob.run(['submit', bob.predictions().path, '--challenge', 'later', '--code', dir, '--json', ...creds(who.bob)]))
        .exits(EXIT.OK);
    const id = r.one('submitted').submission_id;
    const row = await rowUntil(bob, who.bob, 'later', id, 'NO_CONSENT');
    assert.equal(row.commit, null);
    assert.equal(row.consent_at, null);
    assert.throws(() => git('later', 'rev-parse', '--verify', `participant/${who.bob.id}`));

    // A submission without code cannot be consented to: NO_CODE, status 2.
    const plain = (await bob.run(['submit', bob.predictions().path, '--challenge', 'later', '--json', ...creds(who.bob)]))
        .exits(EXIT.OK).one('submitted').submission_id;
    const nocode = (await bob.run(['code', 'consent', String(plain), '--json', ...creds(who.bob)])).exits(EXIT.REFUSED);
    assert.equal(nocode.one('error').code, 'NO_CODE');
    assert.equal((await codeList(bob, who.bob, 'later')).length, 1);

    // The challenge comes from the local record of submissions.
    const c = (await bob.run(['code', 'consent', String(id), '--json', ...creds(who.bob)])).exits(EXIT.OK).one('consent');
    assert.equal(c.submission_id, id);
    assert.equal(c.challenge_id, 'later');
    assert.match(c.consent_at, /^\d{4}-\d\d-\d\dT/);
    const archived = await rowUntil(bob, who.bob, 'later', id, 'ARCHIVED');
    assert.equal(archived.consent_at, c.consent_at);
    assert.equal(git('later', 'log', '--format=%H', `participant/${who.bob.id}`), `${archived.commit}\n`);
    assert.equal(git('later', 'show', `${archived.commit}:model.py`), 'bob = 2\n');

    // Someone else's submission is not found.
    const carol = user('carol');
    const foreign = (await carol.run(['code', 'consent', String(id), '--challenge', 'later', '--json', ...creds(who.carol)]))
        .exits(EXIT.REFUSED);
    assert.equal(foreign.one('error').code, 'NOT_FOUND');
});

test('code with a link pointing outside is refused: status 2, the broker\'s message, nothing submitted', async () => {
    const carol = user('carol');
    const tmp = fs.mkdtempSync(path.join(carol.home, 'tmp-'));
    const dir = codeDir(carol, 'evil', { 'main.py': 'x = 1\n', pw: { link: '/etc/passwd' } });
    const before = (await env.adminSubmissions()).length;
    const r = (await carol.run(['submit', carol.predictions().path, '--challenge', 'hostile', '--code', dir, '--consent', '--json',
        ...creds(who.carol)], { env: { TMPDIR: tmp } })).exits(EXIT.REFUSED);
    const err = r.one('error');
    assert.equal(err.code, 'CODE_REFUSED');
    assert.equal(err.exit_status, EXIT.REFUSED);
    assert.match(r.stderr, /symbolic link pw points outside the tree/);
    assert.equal(r.kind('submitted').length, 0, r.toString());
    assert.equal((await env.adminSubmissions()).length, before);
    assert.deepEqual(await codeList(carol, who.carol, 'hostile'), []);
    assert.deepEqual(fs.readdirSync(tmp), [], 'the packed code is removed');
});

test('usage: --help of submit and code, --consent needs --code, a missing DIR is a local error', async () => {
    const u = user('usage');
    const help = (await u.run(['code', '--help'])).exits(EXIT.OK);
    assert.match(help.stdout, /crowdai code consent ID/);
    assert.match(help.stdout, /crowdai code list --challenge CHALLENGE/);
    assert.equal((await u.run(['help', 'code'])).exits(EXIT.OK).stdout, help.stdout);
    assert.match((await u.run(['code', 'list', '--help'])).exits(EXIT.OK).stdout, /code list/);
    assert.match((await u.run(['submit', '--help'])).exits(EXIT.OK).stdout, /--code DIR[\s\S]*--consent/);
    assert.match((await u.run(['--help'])).exits(EXIT.OK).stdout, /code list --challenge ID/);
    const noCode = (await u.run(['submit', u.predictions().path, '--challenge', 'code', '--consent', ...creds(who.alice)]))
        .exits(EXIT.USAGE);
    assert.match(noCode.stderr, /--consent goes with --code/);
    (await u.run(['code'])).exits(EXIT.USAGE);
    assert.match((await u.run(['code', 'revoke', '1'])).exits(EXIT.USAGE).stderr, /not one of its commands/);
    (await u.run(['code', 'list', ...creds(who.alice)])).exits(EXIT.USAGE);
    const missing = (await u.run(['submit', u.predictions().path, '--challenge', 'code', '--code', path.join(u.home, 'nope'), '--json',
        ...creds(who.alice)])).exits(EXIT.LOCAL);
    assert.match(missing.stderr, /Cannot pack .*nope/);
    assert.equal(missing.kind('upload').length, 0);
});
