// The Node side of bench/client: the workload of sioc_bench.c run with socket.io-client 4.8
// in one node process. N clients (each io() with forceNew, so each its own WebSocket
// connection; WebSocket transport only, like the C client; no reconnection) join "/" and keep
// K `message-with-ack` emits in flight; every ack is checked (same argument back) and at once
// replaced by a new emit. After a warm-up it counts the acks of a fixed window, records each
// round trip (emit call to ack callback) in a 1 us histogram and reads this process's CPU
// time from /proc/self/stat (all threads). Prints one RESULT line in sioc_bench's format.
// Never part of the test suite.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';

const HIST_LINEAR_US = 100000;
const HIST_BUCKETS = HIST_LINEAR_US + 60000;
const EVENT = 'message-with-ack';

function usage() {
    process.stderr.write(
        'usage: node node_bench.mjs --port N [--clients N] [--inflight K] [--warmup S]\n' +
            '       [--duration S] [--payload BYTES] [--server-pid PID] [--connect-timeout S]\n',
    );
    process.exit(2);
}

function parseArgs(argv) {
    const o = {
        port: 0,
        clients: 50,
        inflight: 4,
        warmup: 2,
        duration: 10,
        payload: 32,
        serverPid: 0,
        connectTimeout: 30,
    };
    const names = {
        '--port': 'port',
        '--clients': 'clients',
        '--inflight': 'inflight',
        '--warmup': 'warmup',
        '--duration': 'duration',
        '--payload': 'payload',
        '--server-pid': 'serverPid',
        '--connect-timeout': 'connectTimeout',
    };
    for (let i = 0; i < argv.length; i += 2) {
        const key = names[argv[i]];
        const value = Number(argv[i + 1]);
        if (key === undefined || !Number.isFinite(value)) usage();
        o[key] = value;
    }
    if (o.port <= 0 || o.port > 65535 || o.clients < 1 || o.inflight < 1 || o.inflight > 64 ||
        o.payload < 16 || o.payload > 200 || o.duration <= 0 || o.warmup < 0)
        usage();
    return o;
}

const CLK_TCK = Number(process.env.CLK_TCK) || 100;

/** utime + stime of process pid in clock ticks, or -1 (like bench_proc_ticks). */
function procTicks(pid) {
    if (!(pid > 0)) return -1;
    try {
        const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        // f[0] is field 3 (state): utime and stime are fields 14 and 15
        return Number(f[11]) + Number(f[12]);
    } catch {
        return -1;
    }
}

const opt = parseArgs(process.argv.slice(2));
const hist = new Float64Array(HIST_BUCKETS);
let histTotal = 0;
let maxUs = 0;
let phase = 'connect';
let joined = 0;
let acked = 0;
let errors = 0;
let tMeasure = 0;
let measuredS = 0;
let selfTicks0 = -1;
let selfTicks = -1;
let srvTicks0 = -1;
let srvTicks = -1;
let timer = null;
const sockets = [];

function histRecord(ms) {
    const us = Math.floor(ms * 1000);
    let i;
    if (us < HIST_LINEAR_US) i = us;
    else if ((us - HIST_LINEAR_US) / 1000 < HIST_BUCKETS - HIST_LINEAR_US)
        i = HIST_LINEAR_US + Math.floor((us - HIST_LINEAR_US) / 1000);
    else i = HIST_BUCKETS - 1;
    hist[i]++;
    histTotal++;
    if (us > maxUs) maxUs = us;
}

function histPercentile(q) {
    if (histTotal === 0) return 0;
    let rank = Math.floor(q * histTotal);
    if (rank === 0) rank = 1;
    let seen = 0;
    for (let i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen >= rank)
            return i < HIST_LINEAR_US ? i + 1 : HIST_LINEAR_US + (i - HIST_LINEAR_US + 1) * 1000;
    }
    return maxUs;
}

function countError(what, detail) {
    if (phase === 'done') return;
    if (errors < 5) process.stderr.write(`node_bench: ${what}${detail ? `: ${detail}` : ''}\n`);
    errors++;
}

function payloadFor(client, slot) {
    let s = `c${client}s${slot}-`;
    for (let i = s.length; i < opt.payload; i++) s += String.fromCharCode(97 + (i % 26));
    return s;
}

function emitSlot(socket, payload) {
    const sent = performance.now();
    socket.emit(EVENT, payload, (reply) => {
        if (phase === 'done') return;
        const now = performance.now();
        if (reply !== payload) countError('ack with other arguments', JSON.stringify(reply));
        else if (phase === 'measure') {
            acked++;
            histRecord(now - sent);
        }
        emitSlot(socket, payload);
    });
}

function startWindow() {
    phase = 'measure';
    tMeasure = performance.now();
    selfTicks0 = procTicks(process.pid);
    srvTicks0 = procTicks(opt.serverPid);
    timer = setTimeout(endWindow, opt.duration * 1000);
}

function endWindow() {
    if (phase === 'measure') {
        measuredS = (performance.now() - tMeasure) / 1000;
        selfTicks = procTicks(process.pid);
        srvTicks = procTicks(opt.serverPid);
    }
    phase = 'done';
    clearTimeout(timer);
    for (const s of sockets) s.disconnect();
    printResult();
    process.exit(joined === opt.clients && errors === 0 ? 0 : 1);
}

function printResult() {
    let cpuS = -1;
    let srvCpu = -1;
    if (measuredS > 0 && selfTicks0 >= 0 && selfTicks >= 0) cpuS = (selfTicks - selfTicks0) / CLK_TCK;
    if (measuredS > 0 && srvTicks0 >= 0 && srvTicks >= 0)
        srvCpu = (srvTicks - srvTicks0) / CLK_TCK / measuredS;
    const per100k = cpuS >= 0 && acked > 0 ? (cpuS * 1e5) / acked : -1;
    process.stdout.write(
        `RESULT impl=node clients=${opt.clients} inflight=${opt.inflight} connected=${joined} ` +
            `duration_s=${measuredS.toFixed(2)} acked=${acked} ` +
            `acks_per_s=${(measuredS > 0 ? acked / measuredS : 0).toFixed(0)} ` +
            `p50_us=${histPercentile(0.5)} p99_us=${histPercentile(0.99)} max_us=${maxUs} ` +
            `errors=${errors} cpu_s=${cpuS.toFixed(2)} cpu_s_per_100k=${per100k.toFixed(3)} ` +
            `client_cpu=${(cpuS >= 0 ? cpuS / measuredS : -1).toFixed(2)} ` +
            `server_cpu=${srvCpu.toFixed(2)}\n`,
    );
}

timer = setTimeout(() => {
    process.stderr.write(
        `node_bench: only ${joined} of ${opt.clients} clients joined within ${opt.connectTimeout} s\n`,
    );
    errors++;
    endWindow();
}, opt.connectTimeout * 1000);

const url = `http://127.0.0.1:${opt.port}`;
for (let i = 0; i < opt.clients; i++) {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(socket);
    let started = false;
    socket.on('connect', () => {
        if (started || phase === 'done') return;
        started = true;
        for (let k = 0; k < opt.inflight; k++) emitSlot(socket, payloadFor(i, k));
        if (++joined === opt.clients) {
            phase = 'warmup';
            clearTimeout(timer);
            timer = setTimeout(startWindow, opt.warmup * 1000);
        }
    });
    socket.on('connect_error', (err) => countError('connect error', err && err.message));
    socket.on('disconnect', (reason) => countError('disconnected', reason));
}
