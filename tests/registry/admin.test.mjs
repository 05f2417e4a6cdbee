// crowdai-admin, the real binary, on a fresh data directory: challenges, rounds, the import
// file, participants and keys (which really authenticate), grader keys, submissions, the
// leaderboard, --help, and every error's message and exit status (0 ok, 1 failed, 2 usage).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

const ADMIN = process.env.CROWDAI_ADMIN;
const SEED = process.env.REG_SEED;
if (!ADMIN || !SEED) throw new Error('set CROWDAI_ADMIN and REG_SEED (ctest does)');

let root;
before(() => { root = mkdtempSync(path.join(tmpdir(), 'crowdai-admin-')); });
after(() => { rmSync(root, { recursive: true, force: true }); });

let dirCount = 0;
function freshDir() {
    return path.join(root, `data-${++dirCount}`);
}

function noSanitizerReport(stderr) {
    assert.doesNotMatch(stderr, /Sanitizer|runtime error:|LeakSanitizer/, stderr);
}

// Runs crowdai-admin; dir null leaves --data out.
function admin(dir, ...args) {
    const argv = dir === null ? args : ['--data', dir, ...args];
    const r = spawnSync(ADMIN, argv, { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.error, undefined, `spawn failed: ${r.error}`);
    noSanitizerReport(r.stderr);
    return { status: r.status, out: r.stdout, err: r.stderr };
}

function ok(dir, ...args) {
    const r = admin(dir, ...args);
    assert.equal(r.status, 0, `crowdai-admin ${args.join(' ')}: ${r.err}`);
    return r.out;
}

function seed(dir, ...args) {
    const r = spawnSync(SEED, [path.join(dir, 'registry.sqlite3'), ...args],
        { encoding: 'utf8', timeout: 30000 });
    noSanitizerReport(r.stderr);
    assert.equal(r.status, 0, `reg_seed ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
}

// Splits an aligned table into rows of cells (cells are separated by 2+ spaces).
function table(text) {
    return text.trimEnd().split('\n').map((line) => line.trim().split(/ {2,}/));
}

function field(text, name) {
    const m = text.match(new RegExp(`^${name}: (.*)$`, 'm'));
    assert.ok(m, `no "${name}:" line in ${text}`);
    return m[1];
}

function dbBytes(dir) {
    const parts = ['registry.sqlite3', 'registry.sqlite3-wal']
        .map((f) => path.join(dir, f)).filter((f) => existsSync(f)).map((f) => readFileSync(f));
    return Buffer.concat(parts).toString('latin1');
}

const OPEN_ROUND = ['--start', '2020-01-01T00:00:00Z', '--end', '2100-01-01T00:00:00Z'];

function demoChallenge(dir, id = 'demo', extra = []) {
    ok(dir, 'challenge', 'create', id, '--title', 'Demo challenge', '--pool', 'default',
        '--primary', 'f1', '--secondary', 'logloss:asc', ...extra);
    ok(dir, 'round', 'add', id, '1', ...OPEN_ROUND);
}

describe('help and usage', () => {
    test('--help lists every command and exits 0', () => {
        const r = admin(null, '--help');
        assert.equal(r.status, 0);
        for (const cmd of ['challenge create', 'challenge update', 'challenge import',
            'challenge list', 'round add', 'round update', 'participant add', 'key rotate',
            'key revoke', 'grader-key add', 'grader-key revoke', 'submissions', 'leaderboard']) {
            assert.match(r.out, new RegExp(`^  ${cmd} `, 'm'), cmd);
        }
        assert.match(r.out, /Exit status: 0 done, 1 failed, 2 usage error/);
    });

    test('no arguments prints the usage to stderr and exits 2', () => {
        const r = admin(null);
        assert.equal(r.status, 2);
        assert.equal(r.out, '');
        assert.match(r.err, /^usage: crowdai-admin --data DIR <command>/);
    });

    test('each command has its own --help, which needs no data directory', () => {
        const r = admin(null, 'round', 'add', '--help');
        assert.equal(r.status, 0);
        assert.match(r.out, /^usage: crowdai-admin --data DIR round add CHALLENGE N --start ISO8601/);
        assert.match(r.out, /--period P +day \(rolling 24 h, default\), week/);
        const lb = admin(null, 'leaderboard', '--help');
        assert.equal(lb.status, 0);
        assert.match(lb.out, /--round N/);
        const group = admin(null, 'key', '--help');
        assert.equal(group.status, 0);
        assert.match(group.out, /key rotate/);
        assert.match(group.out, /key revoke/);
    });

    test('usage errors exit 2 with a plain message', () => {
        const dir = freshDir();
        const cases = [
            [['frobnicate'], /unknown command 'frobnicate'/],
            [['challenge'], /'challenge' needs a subcommand/],
            [['challenge', 'frob'], /unknown command 'challenge frob'/],
            [['challenge', 'list', '--colour'], /unknown option --colour/],
            [['challenge', 'list', 'extra'], /unexpected argument 'extra'/],
            [['challenge', 'create', 'x', '--title', 't', '--pool', 'p'], /--primary is required/],
            [['round', 'add', 'demo'], /missing arguments/],
            [['leaderboard', 'demo', '--round', 'two'],
                /--round must be a whole number from 1 to 1000000, not 'two'/],
            [['challenge', 'list', '--json', '--json'], /option --json is given twice/],
        ];
        for (const [args, message] of cases) {
            const r = admin(dir, ...args);
            assert.equal(r.status, 2, args.join(' '));
            assert.match(r.err, message, args.join(' '));
        }
        const noData = admin(null, 'challenge', 'list');
        assert.equal(noData.status, 2);
        assert.match(noData.err, /--data DIR is required/);
    });
});

describe('challenges and rounds', () => {
    test('create makes the data directory (0700) and database; list shows it', () => {
        const dir = freshDir();
        assert.equal(ok(dir, 'challenge', 'create', 'demo', '--title', 'Demo challenge', '--pool',
            'gpu', '--primary', 'f1', '--secondary', 'logloss:asc', '--types', '.csv,.zip',
            '--max-upload', '1000', '--time-limit', '30', '--max-attempts', '5'),
            'created challenge demo\n');
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        assert.equal(statSync(path.join(dir, 'registry.sqlite3')).mode & 0o077, 0);
        const rows = table(ok(dir, 'challenge', 'list'));
        assert.deepEqual(rows[0], ['ID', 'POOL', 'PRIMARY', 'SECONDARY', 'PRECISION', 'ROUNDS',
            'TITLE']);
        assert.deepEqual(rows[1], ['demo', 'gpu', 'f1:desc', 'logloss:asc', '3', '0',
            'Demo challenge']);
        const [c] = JSON.parse(ok(dir, 'challenge', 'list', '--json'));
        assert.deepEqual(c, {
            id: 'demo', title: 'Demo challenge', pool: 'gpu', primary: 'f1:desc',
            secondary: 'logloss:asc', max_upload_bytes: 1000, types: '.csv,.zip',
            time_limit_seconds: 30, max_attempts: 5, precision: 3, round_count: 0,
        });
    });

    test('--precision: default 3, set on create and update, 0 to 12 only', () => {
        const dir = freshDir();
        ok(dir, 'challenge', 'create', 'five', '--title', 'Five', '--pool', 'p', '--primary', 'f1',
            '--precision', '5');
        ok(dir, 'challenge', 'create', 'plain', '--title', 'Plain', '--pool', 'p', '--primary', 'f1');
        const precisions = () => Object.fromEntries(
            JSON.parse(ok(dir, 'challenge', 'list', '--json')).map((c) => [c.id, c.precision]));
        assert.deepEqual(precisions(), { five: 5, plain: 3 });
        assert.equal(ok(dir, 'challenge', 'update', 'plain', '--precision', '0'),
            'updated challenge plain\n');
        ok(dir, 'challenge', 'update', 'five', '--precision=12', '--title', 'Twelve');
        assert.deepEqual(precisions(), { five: 12, plain: 0 });
        ok(dir, 'challenge', 'update', 'five', '--title', 'Still twelve');
        assert.deepEqual(precisions(), { five: 12, plain: 0 });
        assert.equal(table(ok(dir, 'challenge', 'list'))[1][4], '12');
        for (const bad of ['13', '-1', 'two', '2.5', '']) {
            for (const cmd of [['update', 'plain'], ['create', 'new', '--title', 't', '--pool', 'p',
                '--primary', 'f1']]) {
                const r = admin(dir, 'challenge', ...cmd, '--precision', bad);
                assert.equal(r.status, 2, `${cmd[0]} --precision '${bad}'`);
                assert.match(r.err,
                    new RegExp(`--precision must be a whole number from 0 to 12, not '${bad}'`));
            }
        }
        assert.deepEqual(precisions(), { five: 12, plain: 0 });
        const help = admin(null, 'challenge', 'create', '--help');
        assert.equal(help.status, 0);
        assert.match(help.out, /--precision N/);
    });

    test('create refuses bad definitions and duplicates', () => {
        const dir = freshDir();
        demoChallenge(dir);
        const dup = admin(dir, 'challenge', 'create', 'demo', '--title', 't', '--pool', 'p',
            '--primary', 'x');
        assert.equal(dup.status, 1);
        assert.match(dup.err, /^crowdai-admin: error: challenge demo exists already \(use 'challenge update'\)/);
        const cases = [
            [['Bad_Id'], /the challenge id must be 1 to 63 characters of a-z, 0-9 and '-'/],
            [['ok', '--primary', 'f1:up'], /--primary: the sort order after ':' must be asc or desc, not 'up'/],
            [['ok', '--types', 'csv'], /accepted file types must be a comma-separated list/],
            [['ok', '--time-limit', '0'], /--time-limit must be a whole number from 1 to 604800, not '0'/],
        ];
        for (const [args, message] of cases) {
            const [id, ...opts] = args;
            const base = { '--title': 't', '--pool': 'p', '--primary': 'f1' };
            for (let i = 0; i < opts.length; i += 2) base[opts[i]] = opts[i + 1];
            const r = admin(dir, 'challenge', 'create', id, ...Object.entries(base).flat());
            assert.equal(r.status, 2, args.join(' '));
            assert.match(r.err, message, args.join(' '));
        }
        assert.equal(table(ok(dir, 'challenge', 'list')).length, 2);
    });

    test('update changes only the options given', () => {
        const dir = freshDir();
        demoChallenge(dir);
        assert.equal(ok(dir, 'challenge', 'update', 'demo', '--title', 'Renamed', '--primary',
            'acc:asc', '--secondary', ''), 'updated challenge demo\n');
        const [c] = JSON.parse(ok(dir, 'challenge', 'list', '--json'));
        assert.equal(c.title, 'Renamed');
        assert.equal(c.primary, 'acc:asc');
        assert.equal(c.secondary, null);
        assert.equal(c.pool, 'default');
        const missing = admin(dir, 'challenge', 'update', 'nope', '--title', 'x');
        assert.equal(missing.status, 1);
        assert.match(missing.err, /there is no challenge nope/);
    });

    test('rounds: add, update, list, and their errors', () => {
        const dir = freshDir();
        demoChallenge(dir);
        assert.equal(ok(dir, 'round', 'add', 'demo', '2', '--start', '2100-01-01T00:00:00Z',
            '--end', '2100-02-01T02:00:00+02:00', '--limit', '5', '--period', 'week', '--refund',
            '1', '--parallel', '2', '--min-score', '0.5', '--late', 'yes'),
            'added round 2 to challenge demo\n');
        const rows = table(ok(dir, 'round', 'list', 'demo'));
        assert.deepEqual(rows[0], ['ROUND', 'START', 'END', 'LIMIT', 'REFUND', 'PARALLEL',
            'MIN_SCORE', 'LATE', 'STATUS']);
        assert.deepEqual(rows[1], ['1', '2020-01-01T00:00:00Z', '2100-01-01T00:00:00Z',
            'unlimited', '0', '0', '-', 'no', 'open']);
        assert.deepEqual(rows[2], ['2', '2100-01-01T00:00:00Z', '2100-02-01T00:00:00Z', '5/week',
            '1', '2', '0.5', 'yes', 'upcoming']);
        ok(dir, 'round', 'update', 'demo', '2', '--limit', '0', '--min-score', 'none');
        const [, r2] = JSON.parse(ok(dir, 'round', 'list', 'demo', '--json'));
        assert.equal(r2.limit, 0);
        assert.equal(r2.min_score, null);
        assert.equal(r2.period, 'week');
        assert.equal(r2.late, true);
        const [c] = JSON.parse(ok(dir, 'challenge', 'list', '--json'));
        assert.equal(c.round_count, 2);

        const fails = [
            [['round', 'add', 'demo', '1', ...OPEN_ROUND], 1, /round 1 of demo exists already/],
            [['round', 'add', 'nope', '1', ...OPEN_ROUND], 1, /there is no challenge nope/],
            [['round', 'update', 'demo', '9', '--limit', '1'], 1, /challenge demo has no round 9/],
            [['round', 'add', 'demo', '3', '--start', 'yesterday', '--end', '2100-01-01'], 2,
                /--start must be an ISO 8601 time such as 2026-11-26T14:00:00Z, not 'yesterday'/],
            [['round', 'add', 'demo', '3', '--start', '2100-01-02', '--end', '2100-01-01'], 2,
                /a round must end after it starts/],
            [['round', 'add', 'demo', '0', ...OPEN_ROUND], 2, /the round number must be a whole number from 1/],
            [['round', 'update', 'demo', '1', '--period', 'month'], 2, /--period must be day, week or round, not 'month'/],
            [['round', 'update', 'demo', '1', '--late', 'maybe'], 2, /--late must be yes or no, not 'maybe'/],
            [['round', 'update', 'demo', '1', '--refund', '-1'], 2, /--refund must be a whole number from 0/],
        ];
        for (const [args, status, message] of fails) {
            const r = admin(dir, ...args);
            assert.equal(r.status, status, args.join(' '));
            assert.match(r.err, message, args.join(' '));
        }
    });
});

describe('challenge import', () => {
    const definition = {
        id: 'flowers', title: 'Flower classification', pool: 'cpu',
        primary: 'f1:desc', secondary: 'logloss:asc', max_upload_bytes: 10485760,
        types: '.csv', time_limit_seconds: 300, max_attempts: 2, precision: 4,
        rounds: [
            { number: 1, start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z', limit: 5,
                period: 'day', refund: 1, parallel: 2, min_score: 0.6, late: false },
            { number: 2, start: '2030-01-01T00:00:00Z', end: '2031-01-01T00:00:00Z',
                limit: 10, period: 'week', late: true },
        ],
    };

    function writeJson(dir, name, value) {
        const file = path.join(root, `${path.basename(dir)}-${name}`);
        writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
        return file;
    }

    test('creates, then updates, a challenge and its rounds', () => {
        const dir = freshDir();
        const file = writeJson(dir, 'flowers.json', definition);
        assert.equal(ok(dir, 'challenge', 'import', file),
            'created challenge flowers: 2 rounds (2 created, 0 updated)\n');
        const changed = structuredClone(definition);
        changed.title = 'Flowers, again';
        changed.rounds[1].limit = 3;
        changed.rounds.push({ number: 3, start: '2031-01-01', end: '2032-01-01' });
        assert.equal(ok(dir, 'challenge', 'import', writeJson(dir, 'v2.json', changed)),
            'updated challenge flowers: 3 rounds (1 created, 2 updated)\n');
        const [c] = JSON.parse(ok(dir, 'challenge', 'list', '--json'));
        assert.equal(c.title, 'Flowers, again');
        assert.equal(c.time_limit_seconds, 300);
        assert.equal(c.precision, 4);
        assert.equal(c.round_count, 3);
        const rounds = JSON.parse(ok(dir, 'round', 'list', 'flowers', '--json'));
        assert.equal(rounds[0].min_score, 0.6);
        assert.equal(rounds[0].refund, 1);
        assert.equal(rounds[1].limit, 3);
        assert.equal(rounds[1].period, 'week');
        assert.equal(rounds[2].period, 'day');
    });

    test('a bad file is refused with its reason and changes nothing', () => {
        const dir = freshDir();
        demoChallenge(dir);
        const bad = (rounds) => ({ ...definition, rounds });
        const cases = [
            ['[1', /is not valid JSON/],
            ['[]', /must hold one JSON object \(a challenge\)/],
            [{ ...definition, colour: 'red' }, /unknown field colour/],
            [{ ...definition, precision: 13 }, /precision must be a whole number from 0 to 12/],
            [{ ...definition, precision: 1.5 }, /precision must be a whole number from 0 to 12/],
            [{ id: 'x', title: 't', pool: 'p' }, /a challenge needs id, title, pool and primary/],
            [{ ...definition, id: 'Not A Slug' }, /the challenge id must be 1 to 63 characters/],
            [bad([{ number: 1, start: '2020-01-01', end: '2019-01-01' }]), /rounds\[0\]: a round must end after it starts/],
            [bad([{ number: 1, start: '2020-01-01', end: '2021-01-01', limit: '5' }]),
                /rounds\[0\].limit must be a whole number from 0 to 1000000/],
            [bad([{ number: 1, start: '2020-01-01', end: '2021-01-01' },
                { number: 1, start: '2021-01-01', end: '2022-01-01' }]), /round 1 is defined twice/],
            [bad([{ number: 1, start: 'soon', end: '2021-01-01' }]), /rounds\[0\].start must be an ISO 8601 time/],
            [bad([{ start: '2020-01-01', end: '2021-01-01' }]), /rounds\[0\] needs number, start and end/],
            [bad([{ number: 1, start: '2020-01-01', end: '2021-01-01', period: 'month' }]),
                /rounds\[0\].period must be "day", "week" or "round"/],
        ];
        cases.forEach(([content, message], i) => {
            const r = admin(dir, 'challenge', 'import', writeJson(dir, `bad${i}.json`, content));
            assert.equal(r.status, 1, `case ${i}`);
            assert.match(r.err, message, `case ${i}`);
        });
        const missing = admin(dir, 'challenge', 'import', path.join(root, 'no-such-file.json'));
        assert.equal(missing.status, 1);
        assert.match(missing.err, /cannot read .*no-such-file.json: No such file or directory/);
        const ids = JSON.parse(ok(dir, 'challenge', 'list', '--json')).map((c) => c.id);
        assert.deepEqual(ids, ['demo']);
    });
});

describe('participants and keys', () => {
    test('participant add prints the id and a key that authenticates, stored only hashed', () => {
        const dir = freshDir();
        demoChallenge(dir);
        const r = admin(dir, 'participant', 'add', 'Zoë');
        assert.equal(r.status, 0, r.err);
        assert.equal(field(r.out, 'participant_id'), '1');
        assert.equal(field(r.out, 'name'), 'Zoë');
        const key = field(r.out, 'api_key');
        assert.match(key, /^[0-9a-f]{64}$/);
        assert.match(r.err, /shown only once/);
        assert.equal(dbBytes(dir).includes(key), false, 'the key is in the database file');
        assert.equal(seed(dir, 'auth', key, 'demo'), 'ok');
        assert.equal(seed(dir, 'auth', key, 'nope'), 'unknown_challenge');

        const json = JSON.parse(ok(dir, 'participant', 'add', 'bob', '--json'));
        assert.equal(json.participant_id, 2);
        assert.equal(json.name, 'bob');
        assert.match(json.api_key, /^[0-9a-f]{64}$/);
        assert.notEqual(json.api_key, key);

        const dup = admin(dir, 'participant', 'add', 'bob');
        assert.equal(dup.status, 1);
        assert.match(dup.err, /a participant named 'bob' exists already/);
        const rows = table(ok(dir, 'participant', 'list'));
        assert.deepEqual(rows.map((row) => row.slice(0, 3)),
            [['ID', 'NAME', 'API_KEY'], ['1', 'Zoë', 'active'], ['2', 'bob', 'active']]);
    });

    test('key rotate replaces the key; key revoke locks the participant out', () => {
        const dir = freshDir();
        demoChallenge(dir);
        const old = field(ok(dir, 'participant', 'add', 'alice'), 'api_key');
        const rotated = ok(dir, 'key', 'rotate', '1');
        assert.equal(field(rotated, 'participant_id'), '1');
        const fresh = field(rotated, 'api_key');
        assert.match(fresh, /^[0-9a-f]{64}$/);
        assert.notEqual(fresh, old);
        assert.equal(seed(dir, 'auth', old, 'demo'), 'bad_key');
        assert.equal(seed(dir, 'auth', fresh, 'demo'), 'ok');
        assert.equal(dbBytes(dir).includes(fresh), false);

        assert.equal(ok(dir, 'key', 'revoke', '1'), 'revoked the API key of participant 1\n');
        assert.equal(seed(dir, 'auth', fresh, 'demo'), 'bad_key');
        assert.equal(ok(dir, 'key', 'revoke', '1'), 'participant 1 had no active API key\n');
        assert.equal(table(ok(dir, 'participant', 'list'))[1][2], 'revoked');
        const again = JSON.parse(ok(dir, 'key', 'rotate', '1', '--json'));
        assert.equal(seed(dir, 'auth', again.api_key, 'demo'), 'ok');

        const unknown = admin(dir, 'key', 'rotate', '42');
        assert.equal(unknown.status, 1);
        assert.match(unknown.err, /there is no participant 42/);
        const revokeUnknown = admin(dir, 'key', 'revoke', '42');
        assert.equal(revokeUnknown.status, 1);
        const notNumber = admin(dir, 'key', 'revoke', 'alice');
        assert.equal(notNumber.status, 2);
        assert.match(notNumber.err, /a participant id is a whole number from 1, not 'alice'/);
    });

    test('grader keys: add prints a working key, one active key per name, revoke', () => {
        const dir = freshDir();
        const out = ok(dir, 'grader-key', 'add', 'gpu-1');
        assert.equal(field(out, 'grader'), 'gpu-1');
        const key = field(out, 'grader_key');
        assert.match(key, /^[0-9a-f]{64}$/);
        assert.equal(seed(dir, 'grader', key), 'gpu-1');
        assert.equal(dbBytes(dir).includes(key), false);
        const dup = admin(dir, 'grader-key', 'add', 'gpu-1');
        assert.equal(dup.status, 1);
        assert.match(dup.err, /grader 'gpu-1' has an active key already \(revoke it first\)/);
        assert.equal(ok(dir, 'grader-key', 'revoke', 'gpu-1'), "revoked the key of grader 'gpu-1'\n");
        assert.equal(seed(dir, 'grader', key), 'refused');
        const again = admin(dir, 'grader-key', 'revoke', 'gpu-1');
        assert.equal(again.status, 1);
        assert.match(again.err, /grader 'gpu-1' has no active key/);
        const json = JSON.parse(ok(dir, 'grader-key', 'add', 'gpu-1', '--json'));
        assert.equal(json.grader, 'gpu-1');
        assert.equal(seed(dir, 'grader', json.grader_key), 'gpu-1');
        const long = admin(dir, 'grader-key', 'add', 'g'.repeat(64));
        assert.equal(long.status, 2);
    });
});

describe('submissions and the leaderboard', () => {
    // demo: f1 descending, logloss ascending. alice's best 0.9 (logloss 0.3), bob 0.9 (0.2),
    // carol 0.95; dave has only a failed submission; erin one still queued.
    function seeded() {
        const dir = freshDir();
        demoChallenge(dir);
        for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) ok(dir, 'participant', 'add', name);
        seed(dir, 'submit', '1', 'demo', 'a1', '2026-01-01T10:00:00Z', 'COMPLETE', '0.5', '0.9');
        seed(dir, 'submit', '1', 'demo', 'a2', '2026-01-01T11:00:00Z', 'COMPLETE', '0.9', '0.3');
        seed(dir, 'submit', '2', 'demo', 'b1', '2026-01-01T12:00:00Z', 'COMPLETE', '0.9', '0.2');
        seed(dir, 'submit', '3', 'demo', 'c1', '2026-01-01T13:00:00Z', 'COMPLETE', '0.95', '5');
        seed(dir, 'submit', '4', 'demo', 'd1', '2026-01-01T14:00:00Z', 'ERROR');
        seed(dir, 'submit', '5', 'demo', 'e1', '2026-01-01T15:00:00Z', 'QUEUED');
        return dir;
    }

    test('leaderboard ranks by primary then secondary score', () => {
        const dir = seeded();
        const rows = table(ok(dir, 'leaderboard', 'demo'));
        assert.deepEqual(rows[0], ['RANK', 'PARTICIPANT', 'f1', 'logloss', 'SUBMISSIONS', 'BEST_AT',
            'SUBMISSION']);
        assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 6)), [
            ['1', 'carol', '0.95', '5', '1', '2026-01-01T13:00:00Z'],
            ['2', 'bob', '0.9', '0.2', '1', '2026-01-01T12:00:00Z'],
            ['3', 'alice', '0.9', '0.3', '2', '2026-01-01T11:00:00Z'],
        ]);
        const json = JSON.parse(ok(dir, 'leaderboard', 'demo', '--json'));
        assert.deepEqual(json.map((r) => [r.rank, r.participant, r.score, r.score_secondary,
            r.submissions]), [[1, 'carol', 0.95, 5, 1], [2, 'bob', 0.9, 0.2, 1],
            [3, 'alice', 0.9, 0.3, 2]]);
        assert.equal(json[2].participant_id, 1);
        assert.equal(JSON.parse(ok(dir, 'leaderboard', 'demo', '--limit', '2', '--json')).length, 2);
        assert.deepEqual(JSON.parse(ok(dir, 'leaderboard', 'demo', '--round', '2', '--json')), []);
        const unknown = admin(dir, 'leaderboard', 'nope');
        assert.equal(unknown.status, 1);
        assert.match(unknown.err, /there is no challenge nope/);
    });

    test('submissions lists states, newest first, with filters', () => {
        const dir = seeded();
        const rows = table(ok(dir, 'submissions'));
        assert.deepEqual(rows[0], ['ID', 'PARTICIPANT', 'CHALLENGE', 'ROUND', 'STATE', 'SCORE',
            'CREATED', 'MESSAGE']);
        assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[4]]), [
            ['6', '5', 'QUEUED'], ['5', '4', 'ERROR'], ['4', '3', 'COMPLETE'],
            ['3', '2', 'COMPLETE'], ['2', '1', 'COMPLETE'], ['1', '1', 'COMPLETE']]);
        assert.equal(rows[2][7], 'seeded');
        const failed = JSON.parse(ok(dir, 'submissions', '--state', 'error', '--json'));
        assert.deepEqual(failed.map((s) => [s.submission_id, s.state, s.message, s.score]),
            [[5, 'ERROR', 'seeded', null]]);
        const alice = JSON.parse(ok(dir, 'submissions', '--participant', '1', '--json'));
        assert.deepEqual(alice.map((s) => [s.client_submission_id, s.score]), [['a2', 0.9], ['a1', 0.5]]);
        assert.equal(JSON.parse(ok(dir, 'submissions', '--limit', '2', '--json')).length, 2);
        assert.deepEqual(JSON.parse(ok(dir, 'submissions', '--challenge', 'nope', '--json')), []);
        const bad = admin(dir, 'submissions', '--state', 'lost');
        assert.equal(bad.status, 2);
        assert.match(bad.err, /--state must be QUEUED, RUNNING, COMPLETE, ERROR, TIMEOUT or CANCELLED, not 'lost'/);
    });
});

describe('the data directory', () => {
    test('a data path that is a file is an error, not a crash', () => {
        const file = path.join(root, 'plain-file');
        writeFileSync(file, 'x');
        const r = admin(file, 'challenge', 'list');
        assert.equal(r.status, 1);
        assert.match(r.err, /is not a directory/);
    });
});
