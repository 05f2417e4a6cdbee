// A scripted grader in its own process (see ChildGrader in harness.mjs), so that a test can
// SIGKILL or SIGSTOP it. Options come as one JSON argument; every record goes to stdout as a
// JSON line {kind, value}; commands come on stdin as JSON lines:
//   {"cmd":"resume","submission_id":N}                  let the job's pauses pass
//   {"cmd":"report","event":E,"args":{...}}              send a report (recorded with its ack)
import readline from 'node:readline';
import { ScriptedGrader } from './harness.mjs';

const opts = JSON.parse(process.argv[2]);
const emit = (kind, value) => process.stdout.write(`${JSON.stringify({ kind, value })}\n`);
const grader = new ScriptedGrader(opts.url, { ...opts, onRecord: emit });

// The parent's end of stdin closes when the parent dies: do not outlive it.
const commands = readline.createInterface({ input: process.stdin });
commands.on('close', () => process.exit(0));
commands.on('line', (line) => {
    if (!line.trim()) return;
    const cmd = JSON.parse(line);
    if (cmd.cmd === 'resume') grader.resume(cmd.submission_id);
    else if (cmd.cmd === 'report') grader.report(cmd.event, cmd.args).catch((err) => emit('error', { message: err.message }));
    else emit('error', { message: `unknown command ${line}` });
});

grader.connect().then(
    () => emit('ready', { id: grader.socket.id }),
    (err) => {
        process.stderr.write(`child grader could not connect: ${err.message}\n`);
        process.exit(2);
    },
);
