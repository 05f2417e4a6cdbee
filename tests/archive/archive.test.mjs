// The code archive end to end through the real broker: code packed with the tar command line,
// uploaded, submitted with and without consent, committed (checked with the git command line),
// scores noted once graded, consent given later, a hostile archive refused with nothing
// submitted or written, pushes to a file:// remote that is down and comes back, publishing
// through a GitHub REST API test double (token checked) and at a challenge's end, an https
// remote with a token and an ssh:// remote (a throwaway sshd, its host key checked).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { cid, createEnv, isoIn, until } from '../e2e/harness.mjs';
import { GitHubDouble } from './github-double.mjs';
import { GitHttpRemote } from './git-http-remote.mjs';

// libgit2 1.5.1 leaks a little on every SSH connection (see the suppressions file): the broker
// and crowdai-admin of this suite run with those leaks suppressed and full stacks to find them.
const here = path.dirname(new URL(import.meta.url).pathname);
process.env.LSAN_OPTIONS = [process.env.LSAN_OPTIONS, 'fast_unwind_on_malloc=0',
    `suppressions=${path.join(here, 'libgit2-ssh.lsan.supp')}`].filter(Boolean).join(':');

let env;
let work;
const who = {};
const SLOW = { timeout: 30000, interval: 100 };

before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-e2e-'));
    env = await createEnv({
        seed: async (e) => {
            for (const name of ['alice', 'bob']) who[name] = await e.addParticipant(name);
            for (const ch of ['code', 'hub', 'ending', 'http', 'ssh']) {
                await e.createChallenge(ch, { pool: `${ch}-pool` });
                await e.addRound(ch, 1);
            }
        },
    });
});

afterEach(() => env.closeClients());
after(async () => {
    if (env) await env.cleanup();
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A grader for every pool of this file, completing with the data's score. */
const grader = () => env.grader({ pools: ['code-pool', 'hub-pool', 'ending-pool', 'http-pool', 'ssh-pool'], name: 'archive', capacity: 4 });
const git = (repo, ...args) => execFileSync('git', ['--git-dir', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const repoOf = (challenge) => path.join(env.dir, 'archive', `${challenge}.git`);

/** Packs files ({name: content | {link: target}}) with tar czf; returns the archive's bytes. */
function pack(files) {
    const dir = fs.mkdtempSync(path.join(work, 'src-'));
    for (const [name, content] of Object.entries(files)) {
        const p = path.join(dir, name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (typeof content === 'object') fs.symlinkSync(content.link, p);
        else fs.writeFileSync(p, content);
    }
    const out = path.join(work, `${path.basename(dir)}.tar.gz`);
    execFileSync('tar', ['czf', out, '-C', dir, '.']);
    return fs.readFileSync(out);
}

async function upload(p, bytes) {
    const res = await fetch(`${env.url}/upload?name=code.tar.gz`, {
        method: 'PUT', headers: { authorization: `Bearer ${p.token}` }, body: bytes,
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.file_key;
}

async function list(p) {
    const ack = await p.call('archive_list', { session_token: p.token });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    return ack.commits;
}

function rowUntil(p, id, pred, what) {
    return until(async () => (await list(p)).find((r) => r.submission_id === id && pred(r)),
        { ...SLOW, what: what || `archive row of ${id}` });
}

test('consented code is committed on the participant branch, tagged, and its score noted', async () => {
    await grader();
    const p = await env.participant(who.alice, 'code');
    const key = await upload(p, pack({ 'main.py': 'print("hi")\n', 'lib/util.py': 'X = 1\n', 'lib/here': { link: '../main.py' } }));
    const csid = cid('code');
    const ack = await p.submitOk({ client_submission_id: csid, data: { score: 0.875 }, code_key: key, code_consent: true });
    const sub = ack.submission_id;
    // A retry is the same submission; the same id with other code is a conflict.
    const again = await p.submitOk({ client_submission_id: csid, data: { score: 0.875 }, code_key: key, code_consent: true });
    assert.equal(again.submission_id, sub);
    assert.equal(again.existing, true);
    const other = await p.submit({ client_submission_id: csid, data: { score: 0.875 }, code_key: await upload(p, pack({ 'o.py': 'o' })), code_consent: true });
    assert.equal(other.code, 'CONFLICT');
    assert.match(other.message, /already used with other code/);
    const row = await rowUntil(p, sub, (r) => r.state === 'ARCHIVED' && r.score !== null, 'archived and scored');
    assert.equal(row.round, 1);
    assert.equal(row.branch, `participant/${who.alice.id}`);
    assert.equal(row.tag, `submission/${sub}`);
    assert.equal(row.score, 0.875);
    assert.equal(row.code_key, key);
    assert.match(row.consent_at, /^\d{4}-\d\d-\d\dT/);
    const repo = repoOf('code');
    assert.equal(git(repo, 'rev-parse', `submission/${sub}^{commit}`).trim(), row.commit);
    assert.equal(git(repo, 'rev-parse', `participant/${who.alice.id}`).trim(), row.commit);
    assert.equal(git(repo, 'ls-tree', '-r', '--format=%(objectmode) %(path)', row.commit),
        '120000 lib/here\n100644 lib/util.py\n100644 main.py\n');
    assert.equal(git(repo, 'show', `${row.commit}:main.py`), 'print("hi")\n');
    assert.equal(git(repo, 'cat-file', '-p', `${row.commit}:lib/here`), '../main.py');
    const msg = git(repo, 'log', '-1', '--format=%B', row.commit);
    assert.match(msg, new RegExp(`^Submission ${sub} \\(round 1\\)\\n`));
    assert.match(msg, new RegExp(`\\nSubmission: ${sub}\\nRound: 1\\nParticipant: ${who.alice.id} \\(alice\\)\\n`));
    await until(() => {
        try {
            return git(repo, 'notes', '--ref=scores', 'show', row.commit) === `submission: ${sub}\nround: 1\nscore: 0.875\n`;
        } catch {
            return false;
        }
    }, { ...SLOW, what: 'the scores note' });
});

test('without consent nothing is archived; consent later archives the past submission', async () => {
    await grader();
    const p = await env.participant(who.bob, 'code');
    const key = await upload(p, pack({ 'secret.py': 'bob = 1\n' }));
    const ack = await p.submitOk({ client_submission_id: cid('later'), data: { score: 0.5 }, code_key: key });
    const sub = ack.submission_id;
    const row = await rowUntil(p, sub, (r) => r.state === 'NO_CONSENT');
    assert.equal(row.commit, null);
    assert.equal(row.consent_at, null);
    // A consented submission made after it is archived by a pass that also saw bob's.
    const alice = await env.participant(who.alice, 'code');
    const later = (await alice.submitOk({ client_submission_id: cid('after'), data: { score: 0.1 },
        code_key: await upload(alice, pack({ 'x.py': 'x\n' })), code_consent: true })).submission_id;
    await rowUntil(alice, later, (r) => r.state === 'ARCHIVED');
    assert.equal((await list(p)).find((r) => r.submission_id === sub).state, 'NO_CONSENT');
    const refs = git(repoOf('code'), 'for-each-ref', '--format=%(refname)');
    assert.ok(!refs.includes(`participant/${who.bob.id}\n`), refs);
    assert.ok(!refs.includes(`submission/${sub}\n`), refs);
    assert.equal(git(repoOf('code'), 'log', '--all', '--format=%s').includes(`Submission ${sub} `), false);
    // Someone else's submission and a missing one are NOT_FOUND.
    assert.equal((await alice.call('archive_consent', { session_token: alice.token, submission_id: sub })).code, 'NOT_FOUND');
    assert.equal((await p.call('archive_consent', { session_token: p.token, submission_id: 999999 })).code, 'NOT_FOUND');
    const plain = await p.submitOk({ client_submission_id: cid('plain'), data: { score: 1 } });
    assert.equal((await p.call('archive_consent', { session_token: p.token, submission_id: plain.submission_id })).code, 'NO_CODE');
    const c = await p.call('archive_consent', { session_token: p.token, submission_id: sub });
    assert.equal(c.ok, true, JSON.stringify(c));
    assert.equal(c.submission_id, sub);
    const archived = await rowUntil(p, sub, (r) => r.state === 'ARCHIVED');
    assert.equal(archived.consent_at, c.consent_at);
    assert.equal(git(repoOf('code'), 'show', `submission/${sub}:secret.py`), 'bob = 1\n');
    assert.match(git(repoOf('code'), 'log', '-1', '--format=%B', `submission/${sub}`), new RegExp(`Consent-at: ${c.consent_at}\\n`));
    // Bob's list holds only bob's rows.
    assert.ok((await list(p)).every((r) => r.branch === undefined || r.branch === `participant/${who.bob.id}`));
});

test('a hostile archive is refused before anything is submitted or written', async () => {
    const p = await env.participant(who.alice, 'code');
    const submissionsBefore = (await env.adminSubmissions()).length;
    const refsBefore = fs.existsSync(repoOf('code')) ? git(repoOf('code'), 'for-each-ref') : '';
    for (const [files, want] of [
        [{ 'ok.py': '1', 'pw': { link: '/etc/passwd' } }, /points outside the tree/],
        [{ 'ok.py': '1', 'up': { link: '../../../etc' } }, /points outside the tree/],
        [{ '-rf': 'x' }, /starts with '-'/],
        [{ 'a\nb.py': 'x' }, /newline/],
    ]) {
        const key = await upload(p, pack(files));
        const ack = await p.submit({ client_submission_id: cid('hostile'), data: { score: 1 }, code_key: key, code_consent: true });
        assert.equal(ack.ok, false, JSON.stringify(ack));
        assert.equal(ack.code, 'CODE_REFUSED');
        assert.match(ack.message, want);
        assert.match(ack.message, /Nothing was submitted\.$/);
    }
    const bad = await p.submit({ client_submission_id: cid('bad'), data: { score: 1 }, code_key: 'nope', code_consent: true });
    assert.equal(bad.code, 'BAD_REQUEST');
    assert.match(bad.message, /code_key must be the key the upload/);
    const noKey = await p.submit({ client_submission_id: cid('bad'), data: { score: 1 }, code_consent: true });
    assert.equal(noKey.code, 'BAD_REQUEST');
    assert.match(noKey.message, /code_consent needs a code_key/);
    const notBool = await p.submit({ client_submission_id: cid('bad'), data: { score: 1 }, code_key: 'a'.repeat(64), code_consent: 'yes' });
    assert.equal(notBool.code, 'BAD_REQUEST');
    assert.match(notBool.message, /code_consent must be true or false/);
    // A key that names no upload: refused the same way as a bad archive.
    const missing = await p.submit({ client_submission_id: cid('bad'), data: { score: 1 }, code_key: 'b'.repeat(64), code_consent: true });
    assert.equal(missing.code, 'CODE_REFUSED');
    assert.match(missing.message, /upload was not found/);
    assert.equal((await env.adminSubmissions()).length, submissionsBefore);
    assert.equal(fs.existsSync(repoOf('code')) ? git(repoOf('code'), 'for-each-ref') : '', refsBefore);
});

test('commits wait for a remote that is down and reach it when it comes back', async () => {
    await grader();
    const remote = path.join(work, 'remote-code.git');
    await env.admin('archive', 'set', 'code', '--remote', `file://${remote}`);
    const p = await env.participant(who.alice, 'code');
    const key = await upload(p, pack({ 'v.py': 'down\n' }));
    const sub = (await p.submitOk({ client_submission_id: cid('down'), data: { score: 2 }, code_key: key, code_consent: true })).submission_id;
    await rowUntil(p, sub, (r) => r.state === 'ARCHIVED');
    await until(async () => JSON.parse(await env.admin('archive', 'list', 'code', '--json')).push_error !== '', { ...SLOW, what: 'a failed push' });
    execFileSync('git', ['init', '-q', '--bare', remote]);
    await until(async () => JSON.parse(await env.admin('archive', 'list', 'code', '--json')).pushed, { ...SLOW, what: 'the push' });
    const local = git(repoOf('code'), 'for-each-ref', '--format=%(objectname) %(refname)');
    // Everything archived so far, notes included, is on the remote exactly.
    await until(() => git(remote, 'for-each-ref', '--format=%(objectname) %(refname)') ===
        git(repoOf('code'), 'for-each-ref', '--format=%(objectname) %(refname)'), { ...SLOW, what: 'the remote to match' });
    assert.ok(local.includes(`refs/tags/submission/${sub}\n`));
    assert.equal(git(remote, 'show', `submission/${sub}:v.py`), 'down\n');
    const listed = await env.admin('archive', 'list', 'code');
    assert.match(listed, new RegExp(`\\b${sub}\\b.*ARCHIVED`));
});

test('publishing a GitHub remote switches it to public with the token, refused with a bad one', async () => {
    const hub = await new GitHubDouble({ 'crowdai/hub-code': { private: true, adminTokens: ['good-token'] } }).start();
    try {
        const tokenFile = path.join(work, 'token');
        fs.writeFileSync(tokenFile, 'wrong-token\n');
        await env.admin('archive', 'set', 'hub', '--github', 'crowdai/hub-code', '--github-api', hub.url, '--token-file', tokenFile);
        await assert.rejects(env.admin('archive', 'publish', 'hub'), /GitHub answered 401: Bad credentials/);
        assert.equal(hub.repos.get('crowdai/hub-code').private, true);
        assert.equal(hub.requests.at(-1).token, 'wrong-token');
        assert.equal(JSON.parse(await env.admin('archive', 'list', 'hub', '--json')).published, false);
        fs.writeFileSync(tokenFile, 'good-token\n');
        assert.match(await env.admin('archive', 'publish', 'hub'), /published/);
        const last = hub.requests.at(-1);
        assert.deepEqual({ method: last.method, path: last.path, token: last.token, body: JSON.parse(last.body) },
            { method: 'PATCH', path: '/repos/crowdai/hub-code', token: 'good-token', body: { private: false } });
        assert.equal(last.accept, 'application/vnd.github+json');
        assert.equal(last.apiVersion, '2022-11-28');
        assert.equal(hub.repos.get('crowdai/hub-code').private, false);
        assert.equal(JSON.parse(await env.admin('archive', 'list', 'hub', '--json')).published, true);
    } finally {
        await hub.stop();
    }
});

test('at the end of the challenge only consenting participants are pushed to the public remote', async () => {
    await grader();
    const pub = path.join(work, 'public-ending.git');
    execFileSync('git', ['init', '-q', '--bare', pub]);
    await env.admin('archive', 'set', 'ending', '--public-remote', `file://${pub}`);
    const a = await env.participant(who.alice, 'ending');
    const b = await env.participant(who.bob, 'ending');
    const yes = (await a.submitOk({ client_submission_id: cid('end'), data: { score: 3 }, code_key: await upload(a, pack({ 'a.py': 'a\n' })), code_consent: true })).submission_id;
    const no = (await b.submitOk({ client_submission_id: cid('end'), data: { score: 4 }, code_key: await upload(b, pack({ 'b.py': 'b\n' })) })).submission_id;
    await rowUntil(a, yes, (r) => r.state === 'ARCHIVED' && r.score === 3);
    await rowUntil(b, no, (r) => r.state === 'NO_CONSENT');
    assert.equal(git(pub, 'for-each-ref'), '');
    const before = await a.leaderboard('ending');
    assert.equal(before.rows.find((r) => r.submission_id === yes).code, null, 'no link before publishing');
    await env.admin('round', 'update', 'ending', '1', '--end', isoIn(-1000));
    await until(() => git(pub, 'for-each-ref', '--format=%(refname)') ===
        `refs/heads/participant/${who.alice.id}\nrefs/notes/scores\nrefs/tags/submission/${yes}\n`, { ...SLOW, what: 'publishing at the end' });
    assert.equal(git(pub, 'show', `submission/${yes}:a.py`), 'a\n');
    assert.equal(JSON.parse(await env.admin('archive', 'list', 'ending', '--json')).published, true);
    // The leaderboard links to the published code of the consenting participant only.
    const board = await a.leaderboard('ending');
    const rowOf = (id) => board.rows.find((r) => r.submission_id === id);
    assert.deepEqual(rowOf(yes).code, { url: `file://${pub}`, branch: `participant/${who.alice.id}` });
    assert.equal(rowOf(no).code, null);
});

test('an https-style remote gets the token as x-access-token; a wrong token keeps commits waiting', async () => {
    await grader();
    const root = path.join(work, 'http-root');
    fs.mkdirSync(root);
    execFileSync('git', ['init', '-q', '--bare', path.join(root, 'http.git')]);
    const remote = await new GitHttpRemote(root, 's3cret-token').start();
    try {
        const tokenFile = path.join(work, 'http-token');
        fs.writeFileSync(tokenFile, 'not-the-token\n');
        await env.admin('archive', 'set', 'http', '--remote', remote.url('http.git'), '--token-file', tokenFile);
        const p = await env.participant(who.alice, 'http');
        const sub = (await p.submitOk({ client_submission_id: cid('http'), data: { score: 5 },
            code_key: await upload(p, pack({ 'h.py': 'over http\n' })), code_consent: true })).submission_id;
        await rowUntil(p, sub, (r) => r.state === 'ARCHIVED');
        await until(async () => JSON.parse(await env.admin('archive', 'list', 'http', '--json')).push_error !== '', { ...SLOW, what: 'a refused push' });
        assert.ok(remote.seen.includes('x-access-token:not-the-token'), JSON.stringify(remote.seen));
        assert.equal(git(path.join(root, 'http.git'), 'for-each-ref'), '');
        fs.writeFileSync(tokenFile, 's3cret-token\n');
        const bare = path.join(root, 'http.git');
        await until(() => git(bare, 'for-each-ref', '--format=%(objectname) %(refname)') ===
            git(repoOf('http'), 'for-each-ref', '--format=%(objectname) %(refname)'), { ...SLOW, what: 'the push with the right token' });
        assert.equal(git(bare, 'show', `submission/${sub}:h.py`), 'over http\n');
        assert.ok(remote.seen.includes('x-access-token:s3cret-token'));
    } finally {
        await remote.stop();
    }
});

/** A free TCP port of 127.0.0.1. */
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

test('an ssh:// remote gets the key; a host key not in known_hosts keeps commits waiting', async () => {
    assert.ok(fs.existsSync('/usr/sbin/sshd'), 'needs /usr/sbin/sshd (openssh-server, scripts/install-deps.sh)');
    await grader();
    const dir = path.join(work, 'ssh');
    fs.mkdirSync(dir);
    const keygen = (file) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    for (const k of ['host_key', 'other_host_key', 'user_key']) keygen(path.join(dir, k));
    fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'));
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(config, [
        `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PasswordAuthentication no',
        'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password',
        `PidFile ${path.join(dir, 'sshd.pid')}`, '',
    ].join('\n'));
    fs.mkdirSync('/run/sshd', { recursive: true });
    const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sshdLog = '';
    sshd.stderr.on('data', (d) => { sshdLog += d; });
    try {
        await until(() => sshdLog.includes('Server listening') || sshd.exitCode !== null, { ...SLOW, what: 'sshd to listen' });
        assert.equal(sshd.exitCode, null, `sshd exited: ${sshdLog}`);
        const bare = path.join(dir, 'ssh.git');
        execFileSync('git', ['init', '-q', '--bare', bare]);
        const hostLine = (k) => `[127.0.0.1]:${port} ${fs.readFileSync(path.join(dir, k), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
        const knownHosts = path.join(dir, 'known_hosts');
        fs.writeFileSync(knownHosts, hostLine('other_host_key.pub'));
        const user = os.userInfo().username;
        await env.admin('archive', 'set', 'ssh', '--remote', `ssh://${user}@127.0.0.1:${port}${bare}`,
            '--ssh-key', path.join(dir, 'user_key'), '--known-hosts', knownHosts);
        const p = await env.participant(who.alice, 'ssh');
        const sub = (await p.submitOk({ client_submission_id: cid('ssh'), data: { score: 6 },
            code_key: await upload(p, pack({ 's.py': 'over ssh\n' })), code_consent: true })).submission_id;
        await rowUntil(p, sub, (r) => r.state === 'ARCHIVED');
        const refused = await until(async () => {
            const l = JSON.parse(await env.admin('archive', 'list', 'ssh', '--json'));
            return l.push_error !== '' && l;
        }, { ...SLOW, what: 'a push refused for its host key' });
        assert.match(refused.push_error, /ssh host key of 127\.0\.0\.1:\d+ does not match the known_hosts file/);
        assert.equal(refused.pushed, false);
        assert.equal(git(bare, 'for-each-ref'), '');
        fs.writeFileSync(knownHosts, hostLine('host_key.pub'));
        await until(() => git(bare, 'for-each-ref', '--format=%(objectname) %(refname)') ===
            git(repoOf('ssh'), 'for-each-ref', '--format=%(objectname) %(refname)'), { ...SLOW, what: 'the push over ssh' });
        assert.ok(git(bare, 'for-each-ref', '--format=%(refname)').includes(`refs/heads/participant/${who.alice.id}\n`));
        assert.equal(git(bare, 'show', `submission/${sub}:s.py`), 'over ssh\n');
        await until(async () => JSON.parse(await env.admin('archive', 'list', 'ssh', '--json')).pushed, { ...SLOW, what: 'the push recorded' });
    } finally {
        if (sshd.exitCode === null) {
            sshd.kill('SIGTERM');
            await new Promise((resolve) => sshd.once('exit', resolve));
        }
    }
});
