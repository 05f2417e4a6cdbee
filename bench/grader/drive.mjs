// The grader benchmark's participant (socket.io-client 4.8): keeps `window` submissions in
// flight on one socket, a new one as soon as one ends, and counts the COMPLETEs received in
// the measured window with their latency from submit to COMPLETE. Then it submits nothing
// more, waits for every submission in flight to end (bounded), and prints one line:
//   RESULT window=W completes=C duration_s=D jobs_per_s=X p50_ms=.. p99_ms=.. total=T errors=E
// usage: node drive.mjs URL API_KEY CHALLENGE WINDOW WARMUP_MS DURATION_MS
import { io } from 'socket.io-client';

const [url, apiKey, challenge, windowArg, warmupArg, durationArg] = process.argv.slice(2);
const window = Number(windowArg);
const warmupMs = Number(warmupArg);
const durationMs = Number(durationArg);
const DRAIN_MS = 30000;

const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
const started = new Map(); // submission_id -> submit time (ms)
const early = new Map(); // submission_id -> final event time, when it beat the submit's ack
const latencies = [];
let token;
let serial = 0;
let inflight = 0;
let phase = 'warmup';
let measured = 0;
let total = 0;
let errors = 0;
let finish;

function ended(id, type, at) {
    const t0 = started.get(id);
    started.delete(id);
    inflight--;
    total++;
    if (type !== 'COMPLETE') errors++;
    else if (phase === 'measure') {
        measured++;
        latencies.push(at - t0);
    }
    if (phase === 'drain') {
        if (inflight === 0) finish();
    } else {
        submit();
    }
}

function submit() {
    inflight++;
    const t0 = performance.now();
    const args = { session_token: token, challenge_id: challenge, client_submission_id: `bench-${process.pid}-${serial++}`, data: {} };
    socket.timeout(DRAIN_MS).emitWithAck('submit', args).then((ack) => {
        if (!ack.ok) {
            errors++;
            inflight--;
            process.stderr.write(`submit refused: ${JSON.stringify(ack)}\n`);
            return;
        }
        started.set(ack.submission_id, t0);
        if (early.has(ack.submission_id)) {
            const at = early.get(ack.submission_id);
            early.delete(ack.submission_id);
            ended(ack.submission_id, at.type, at.at);
        }
    }, (err) => {
        errors++;
        inflight--;
        process.stderr.write(`submit failed: ${err.message}\n`);
    });
}

socket.on('submission_event', (ev) => {
    if (!['COMPLETE', 'ERROR', 'TIMEOUT', 'CANCELLED'].includes(ev.type)) return;
    const at = performance.now();
    if (started.has(ev.submission_id)) ended(ev.submission_id, ev.type, at);
    else early.set(ev.submission_id, { type: ev.type, at });
});

await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
});
const auth = await socket.timeout(10000).emitWithAck('authenticate', { api_key: apiKey, challenge_id: challenge });
if (!auth.ok) throw new Error(`authenticate: ${JSON.stringify(auth)}`);
token = auth.session_token;

for (let i = 0; i < window; i++) submit();
await new Promise((resolve) => setTimeout(resolve, warmupMs));
phase = 'measure';
const t0 = performance.now();
await new Promise((resolve) => setTimeout(resolve, durationMs));
const seconds = (performance.now() - t0) / 1000;
phase = 'drain';
await new Promise((resolve) => {
    finish = resolve;
    if (inflight === 0) resolve();
    setTimeout(() => {
        errors += inflight;
        resolve();
    }, DRAIN_MS);
});
socket.close();

latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2) : 'n/a');
console.log(`RESULT window=${window} completes=${measured} duration_s=${seconds.toFixed(2)} ` +
    `jobs_per_s=${(measured / seconds).toFixed(1)} p50_ms=${pct(0.5)} p99_ms=${pct(0.99)} total=${total} errors=${errors}`);
process.exit(errors === 0 ? 0 : 1);
