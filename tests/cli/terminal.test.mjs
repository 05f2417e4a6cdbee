// crowdai on a terminal, under tmux (its own server socket): the upload, the progress bar
// with the INFO lines above it, and the final score and rank line; then status and the
// leaderboard as text.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { STEADY_TIMINGS, createEnv, until } from '../e2e/harness.mjs';
import { CLI_BIN, CliUser } from './cli.mjs';
import { checkSanitizers } from '../lib/server.mjs';

let env;
const who = {};
const users = [];
const socket = `crowdai-cli-test-${process.pid}`;

function tmux(...args) {
    return new Promise((resolve, reject) => {
        execFile('tmux', ['-L', socket, '-f', '/dev/null', ...args], { timeout: 10000 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`tmux ${args.join(' ')}: ${err.message}\n${stderr}`));
            else resolve(stdout);
        });
    });
}

/** The pane's text, its lines with their trailing blanks removed. */
async function screen() {
    return (await tmux('capture-pane', '-p', '-t', 'cli')).split('\n').map((l) => l.trimEnd());
}

/** Waits until the pane shows a line matching re; resolves with the whole screen. */
function waitScreen(re, what) {
    let last = [];
    return until(async () => {
        last = await screen();
        return last.some((l) => re.test(l)) ? last : undefined;
    }, { what, timeout: 20000, interval: 100 }).catch((err) => {
        throw new Error(`${err.message}\n--- screen ---\n${last.join('\n')}`);
    });
}

before(async () => {
    env = await createEnv({
        brokerArgs: STEADY_TIMINGS,
        seed: async (e) => {
            who.gus = await e.addParticipant('gus');
            await e.createChallenge('tty', { pool: 'tty-pool' });
            await e.addRound('tty', 1);
        },
    });
});

afterEach(async () => {
    await env.closeClients();
    await tmux('kill-server').catch(() => {});
});
after(async () => {
    for (const u of users) u.cleanup();
    if (env) await env.cleanup();
});

test('on a terminal: upload, a progress bar with the INFO lines above it, then the score and rank', () => env.explain(async () => {
    const g = await env.grader({
        pools: ['tty-pool'],
        name: 'tty',
        plan: [{ info: 'loaded 1000 rows' }, { progress: 40, message: 'scoring' }, { pause: 'p' }, { info: 'all rows scored' },
            { progress: 80, message: 'writing' }, { pause: 'q' }, { complete: 0.625 }],
    });
    const gus = new CliUser('gus');
    users.push(gus);
    const file = gus.predictions();
    const stderr = path.join(gus.home, 'stderr.txt');
    const profile = gus.file('profile.sh', [
        `export HOME='${gus.home}' TZ=UTC`,
        'unset CROWDAI_BROKER CROWDAI_API_KEY XDG_CONFIG_HOME XDG_STATE_HOME',
        '',
    ].join('\n'));
    const script = gus.file('run.sh', [
        `. '${profile}'`,
        `'${CLI_BIN}' login --broker '${env.url}' --api-key '${who.gus.apiKey}' 2>>'${stderr}'`,
        `'${CLI_BIN}' submit '${file.path}' --challenge tty --wait 2>>'${stderr}'`,
        'echo "EXIT=$?"',
        '',
    ].join('\n'));
    await tmux('new-session', '-d', '-s', 'cli', '-x', '120', '-y', '30', '/bin/sh');
    await tmux('send-keys', '-t', 'cli', `sh '${script}'`, 'Enter');

    let lines = await waitScreen(/RUNNING\s+\[#+-+\]\s+40%\s+scoring/, 'the bar at 40%');
    const bar = lines.findIndex((l) => /\[#+-+\]\s+40%/.test(l));
    const id = g.jobs()[0].submission_id;
    assert.ok(lines.some((l) => l.startsWith('Saved the broker URL and API key to')), lines.join('\n'));
    assert.ok(lines.some((l) => l === `Uploaded ${file.name} (${fs.statSync(file.path).size} B).`), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`Submitted: submission ${id} to tty, round 1`)), lines.join('\n'));
    const info = lines.indexOf('info: loaded 1000 rows');
    assert.ok(info >= 0 && info < bar, `the INFO line above the bar:\n${lines.join('\n')}`);
    assert.equal(lines.filter((l) => /\[[#-]+\]/.test(l)).length, 1, `one bar on the screen:\n${lines.join('\n')}`);
    // 40% of the bar's width is filled.
    const [, filled, empty] = lines[bar].match(/\[(#+)(-+)\]/);
    assert.equal(Math.floor((filled.length + empty.length) * 0.4), filled.length);

    g.resume(id, 'p');
    lines = await waitScreen(/RUNNING\s+\[#+-+\]\s+80%\s+writing/, 'the bar at 80%');
    const bar80 = lines.findIndex((l) => /80%/.test(l));
    assert.ok(lines.indexOf('info: all rows scored') < bar80 && lines.indexOf('info: all rows scored') > 0, lines.join('\n'));
    assert.equal(lines.filter((l) => /\[[#-]+\]/.test(l)).length, 1, `still one bar:\n${lines.join('\n')}`);

    g.resume(id, 'q');
    lines = await waitScreen(/^EXIT=\d+$/, 'the end');
    const end = lines.join('\n');
    assert.ok(lines.includes('Graded: score 0.625.'), end);
    assert.ok(lines.includes('Rank 1 of 1 on the leaderboard of tty, round 1.'), end);
    assert.ok(lines.includes('EXIT=0'), end);
    assert.equal(lines.filter((l) => /\[[#-]+\]/.test(l)).length, 0, `the bar is gone at the end:\n${end}`);
    checkSanitizers(fs.readFileSync(stderr, 'utf8'));
    assert.equal(fs.readFileSync(stderr, 'utf8'), '');

    // status and leaderboard as text on the terminal.
    await tmux('send-keys', '-t', 'cli', 'clear', 'Enter');
    await tmux('send-keys', '-t', 'cli', `. '${profile}'; '${CLI_BIN}' status ${id}; '${CLI_BIN}' leaderboard tty; echo "DONE=$?"`, 'Enter');
    lines = await waitScreen(/^DONE=\d+$/, 'status and leaderboard');
    const text = lines.join('\n');
    assert.ok(lines.includes(`Submission ${id} (challenge tty, round 1)`), text);
    assert.ok(lines.includes('State:    COMPLETE'), text);
    assert.ok(lines.includes('Score:    0.625'), text);
    assert.ok(lines.includes('Rank:     1 of 1'), text);
    assert.ok(lines.includes('Leaderboard of tty'), text);
    assert.ok(lines.some((l) => /^\s+1\s+gus\s+0\.625\s+1\s+\d+$/.test(l)), text);
    assert.ok(lines.includes('DONE=0'), text);
}));
