// A test double of the crowdAI Rails webapp's /api/external_graders, as documented in
// shared/reference/crowdai-original.md §3: token authentication (401 with a plain-text body),
// key validation, submission creation with its validation order and exact messages, rolling
// submission windows and parallel limits, PATCH/PUT updates. Parameters are read from the
// query string and from a form or JSON body, as Rails does.
//
// For the tests: every API request is logged (GET /__log), the clock can be frozen and moved
// (POST /__clock), the state is replaced with POST /__reset, and faults are injected with
// POST /__fault ({fail: N, status: 500} answers the next N API requests with that status
// without applying them; {hang: N} leaves the next N unanswered and unapplied; {hang: N,
// apply: true} applies them and then leaves them unanswered). The control endpoints need no
// token and are not logged.
//
// Run alone: node tests/webapp/webapp-double.mjs [--port N] [--admin-key KEY]; it prints
// "READY port=N" and exits when its standard input closes (its parent is gone).
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const MESSAGES = {
    keyValid: 'Developer API key is valid',
    keyUnknown: 'No participant could be found for this API key',
    badKey: 'The API key did not match any participant record.',
    badChallenge: 'The Challenge Client Name string did not match any challenge.',
    badRound: 'This challenge_round_id does not exist',
    notOpen: 'The challenge is not open for submissions at this time. Please check the challenge page at www.crowdai.org',
    notQualified: 'You have not qualified for this round. Please review the challenge rules at www.crowdai.org',
    parallel: 'You have exceeded the allowed number of parallel submissions. Please wait until your earlier submissions are graded.',
    noSlots: 'The participant has no submission slots remaining for today.',
    badStatus: 'Grading status must be one of (graded|failed|initiated)',
    noMessage: 'Grading message must be provided if grading = failed',
    media: 'Either all or none of media_large, media_thumbnail and media_content_type must be provided.',
    badSubmission: 'Submission ID is invalid.',
    denied: 'HTTP Token: Access denied.\n',
};

const PERIOD_MS = { day: 24 * 3600 * 1000, week: 7 * 24 * 3600 * 1000 };
const STATUSES = new Set(['graded', 'failed', 'initiated', 'submitted']);

// ---------------------------------------------------------------------------------------------
// Parameters, as Rails builds them: query string, then form or JSON body; a[b]=c nests.

function setParam(params, name, value) {
    const m = name.match(/^([^[\]]+)\[([^[\]]*)\]$/);
    if (!m) {
        params[name] = value;
        return;
    }
    const [, outer, inner] = m;
    if (typeof params[outer] !== 'object' || params[outer] === null) params[outer] = {};
    params[outer][inner] = value;
}

function parseForm(params, text) {
    for (const [k, v] of new URLSearchParams(text)) setParam(params, k, v);
}

function readParams(req, url, body) {
    const params = {};
    parseForm(params, url.search.slice(1));
    const type = String(req.headers['content-type'] || '');
    if (body.length > 0 && type.includes('json')) {
        try {
            Object.assign(params, JSON.parse(body));
        } catch {
            // Rails would answer 400 for a malformed JSON body; the callers here send forms.
        }
    } else if (body.length > 0) {
        parseForm(params, body);
    }
    return params;
}

/** The token of `Authorization: Token token=KEY` (quotes optional), or undefined. */
function tokenOf(req) {
    const h = String(req.headers.authorization || '');
    const m = h.match(/^(?:Token|Bearer)\s+(?:token=)?"?([^",\s]+)"?/);
    return m ? m[1] : undefined;
}

const present = (v) => v !== undefined && v !== null && String(v).trim() !== '';

// ---------------------------------------------------------------------------------------------

export class WebappDouble {
    constructor({ adminKey = 'admin-key' } = {}) {
        this.adminKey = adminKey;
        this.server = http.createServer((req, res) => this.onRequest(req, res));
        this.hung = new Set();
        this.reset({});
    }

    /** Replaces the participants, challenges (with rounds) and submissions; clears the log. */
    reset({ participants = [], challenges = [], submissions = [], now = null } = {}) {
        this.participants = participants.map((p) => ({ showName: false, ...p }));
        this.challenges = challenges.map((c) => ({
            ...c,
            rounds: (c.rounds || []).map((r) => ({
                submission_limit: null, period: 'day', parallel_submissions: 0,
                minimum_score: null, failed_submissions: 0, ...r,
            })),
        }));
        this.submissions = submissions.map((s) => ({ ...s }));
        this.nextId = 1000 + this.submissions.length;
        this.frozen = now;
        this.log = [];
        this.faults = { fail: 0, status: 500, hang: 0, apply: false };
    }

    now() {
        return this.frozen ?? Date.now();
    }

    listen(port = 0, host = '127.0.0.1') {
        return new Promise((resolve) => this.server.listen(port, host, () => resolve(this.port)));
    }

    get port() {
        return this.server.address().port;
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    close() {
        for (const res of this.hung) res.socket?.destroy();
        this.hung.clear();
        this.server.closeAllConnections?.();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    // ---- routing ----

    onRequest(req, res) {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const url = new URL(req.url, 'http://double');
            const body = Buffer.concat(chunks).toString('utf8');
            try {
                if (url.pathname.startsWith('/__')) this.control(req, res, url, body);
                else this.api(req, res, url, readParams(req, url, body));
            } catch (err) {
                send(res, 500, { message: `double failed: ${err.stack}` });
            }
        });
    }

    control(req, res, url, body) {
        const args = body ? JSON.parse(body) : {};
        switch (`${req.method} ${url.pathname}`) {
        case 'POST /__reset':
            this.reset(args);
            return send(res, 200, {});
        case 'POST /__fault':
            this.faults = { fail: 0, status: 500, hang: 0, apply: false, ...args };
            return send(res, 200, this.faults);
        case 'POST /__clock':
            if ('advance' in args) this.frozen = this.now() + args.advance;
            else this.frozen = args.now ?? null;
            return send(res, 200, { now: this.now() });
        case 'POST /__release':
            for (const r of this.hung) r.socket?.destroy();
            this.hung.clear();
            return send(res, 200, {});
        case 'GET /__log':
            return send(res, 200, this.log);
        case 'GET /__submissions':
            return send(res, 200, this.submissions);
        default:
            return send(res, 404, { message: 'no such control' });
        }
    }

    api(req, res, url, params) {
        const entry = { seq: this.log.length + 1, method: req.method, path: url.pathname, params, status: null, outcome: 'answered' };
        this.log.push(entry);
        const answer = (status, body) => {
            entry.status = status;
            if (typeof body === 'string') sendText(res, status, body);
            else send(res, status, body);
        };
        if (this.faults.fail > 0) {
            this.faults.fail--;
            entry.outcome = 'failed';
            return answer(this.faults.status, '<html><body><h1>We\'re sorry, but something went wrong.</h1></body></html>\n');
        }
        let hang = false;
        if (this.faults.hang > 0) {
            this.faults.hang--;
            hang = true;
            entry.outcome = 'hung';
            this.hung.add(res);
            res.on('close', () => this.hung.delete(res));
            if (!this.faults.apply) return undefined;
        }
        const token = tokenOf(req);
        const reply = hang ? (status) => { entry.applied_status = status; } : answer;
        if (token !== this.adminKey) {
            res.setHeader('WWW-Authenticate', 'Token realm="Application"');
            return reply(401, MESSAGES.denied);
        }
        const m = url.pathname.match(/^\/api\/external_graders\/?([^/]*)$/);
        if (!m) return reply(404, { message: 'Not found' });
        const id = decodeURIComponent(m[1]);
        if (req.method === 'GET' && id) return reply(...this.show(id));
        if (req.method === 'POST' && !id) return reply(...this.create(params));
        if ((req.method === 'PATCH' || req.method === 'PUT') && id) return reply(...this.update(id, params));
        return reply(404, { message: 'Not found' });
    }

    // ---- the webapp's rules ----

    show(apiKey) {
        const p = this.participants.find((x) => x.api_key === apiKey);
        if (!p) return [404, { message: MESSAGES.keyUnknown, participant_id: null }];
        const body = { message: MESSAGES.keyValid, participant_id: p.id };
        if (p.showName) body.participant_name = p.name;
        return [200, body];
    }

    currentRound(challenge) {
        const now = this.now();
        return challenge.rounds.find((r) => r.start <= now && now < r.end);
    }

    /** [submissions_remaining, reset_dttm] of a participant in a round (null, null: no limit). */
    remaining(participantId, round) {
        if (!round || !round.submission_limit) return [null, null];
        const now = this.now();
        const period = PERIOD_MS[round.period];
        const inWindow = this.submissions
            .filter((s) => s.participant_id === participantId && s.challenge_round_id === round.id)
            .filter((s) => period === undefined || s.created_at > now - period)
            .sort((a, b) => a.created_at - b.created_at);
        const failed = inWindow.filter((s) => s.grading_status === 'failed').length;
        const counted = inWindow.length - Math.min(failed, round.failed_submissions || 0);
        const reset = period !== undefined && inWindow.length > 0
            ? new Date(inWindow[0].created_at + period).toISOString() : null;
        return [round.submission_limit - counted, reset];
    }

    qualified(participantId, challenge, round) {
        const i = challenge.rounds.indexOf(round);
        const previous = i > 0 ? challenge.rounds[i - 1] : undefined;
        if (!previous || previous.minimum_score === null || previous.minimum_score === undefined) return true;
        const scores = this.submissions
            .filter((s) => s.participant_id === participantId && s.challenge_round_id === previous.id && s.grading_status === 'graded')
            .map((s) => Number(s.score));
        return scores.length > 0 && Math.max(...scores) >= previous.minimum_score;
    }

    /** The grading part of create and update: [error message] or [null, fields]. */
    grading(params) {
        if (!STATUSES.has(params.grading_status)) return [MESSAGES.badStatus];
        if (params.grading_status === 'failed' && !present(params.grading_message)) return [MESSAGES.noMessage];
        const graded = params.grading_status === 'graded';
        return [null, {
            grading_status: params.grading_status,
            score: graded && present(params.score) ? Number(params.score) : null,
            score_secondary: graded && present(params.score_secondary) ? Number(params.score_secondary) : null,
            grading_message: params.grading_message ?? null,
        }];
    }

    mediaError(params) {
        const n = ['media_large', 'media_thumbnail', 'media_content_type'].filter((k) => present(params[k])).length;
        return n !== 0 && n !== 3 ? MESSAGES.media : null;
    }

    create(params) {
        const refuse = (message, remaining = null, reset = null) =>
            [400, { message, submission_id: null, submissions_remaining: remaining, reset_dttm: reset }];
        const p = this.participants.find((x) => x.api_key === params.api_key);
        if (!p) return refuse(MESSAGES.badKey);
        const challenge = this.challenges.find((c) => c.challenge_client_name === params.challenge_client_name);
        if (!challenge) return refuse(MESSAGES.badChallenge);
        let round;
        if (present(params.challenge_round_id)) {
            round = challenge.rounds.find((r) => String(r.id) === String(params.challenge_round_id));
            if (!round) return refuse(MESSAGES.badRound);
        } else {
            round = this.currentRound(challenge);
            if (!round) return refuse(MESSAGES.notOpen);
        }
        if (!this.qualified(p.id, challenge, round)) return refuse(MESSAGES.notQualified);
        const inFlight = this.submissions.filter((s) => s.participant_id === p.id && s.challenge_id === challenge.id &&
            s.grading_status === 'submitted').length;
        if (round.parallel_submissions > 0 && inFlight >= round.parallel_submissions) return refuse(MESSAGES.parallel);
        const [remaining, reset] = this.remaining(p.id, round);
        if (remaining !== null && remaining < 1) return refuse(MESSAGES.noSlots, remaining, reset);
        const [error, fields] = this.grading(params);
        if (error) return refuse(error, remaining, reset);
        const media = this.mediaError(params);
        if (media) return refuse(media, remaining, reset);
        const s = {
            id: this.nextId++,
            participant_id: p.id,
            challenge_id: challenge.id,
            challenge_round_id: round.id,
            description_markdown: params.description_markdown ?? params.comment ?? null,
            meta: typeof params.meta === 'string' ? JSON.parse(params.meta) : (params.meta ?? null),
            created_at: this.now(),
            ...fields,
        };
        this.submissions.push(s);
        const [after, afterReset] = this.remaining(p.id, round);
        return [202, { message: `Participant ${p.name} scored`, submission_id: s.id, submissions_remaining: after, reset_dttm: afterReset }];
    }

    update(id, params) {
        const refuse = (message) => [400, { message, submission_id: id, submissions_remaining: null, reset_date: null }];
        const s = this.submissions.find((x) => String(x.id) === id);
        if (!s) return refuse(MESSAGES.badSubmission);
        const challenge = this.challenges.find((c) => c.id === s.challenge_id);
        const round = challenge?.rounds.find((r) => r.id === s.challenge_round_id);
        const [remaining, reset] = this.remaining(s.participant_id, round);
        const media = this.mediaError(params);
        if (media) return refuse(media);
        let fields = {};
        if (present(params.grading_status)) {
            const [error, f] = this.grading(params);
            if (error) return refuse(error);
            fields = f;
        }
        if (params.meta !== undefined) {
            const incoming = typeof params.meta === 'string' ? JSON.parse(params.meta) : params.meta;
            s.meta = params.meta_overwrite === 'true' ? incoming : { ...incoming, ...(s.meta || {}) };
        }
        if (present(params.description_markdown)) s.description_markdown = params.description_markdown;
        Object.assign(s, fields);
        s.updates = (s.updates || 0) + 1;
        // Rails answers with params[:id]: a string.
        return [202, { message: `Submission ${s.id} updated`, submission_id: id, submissions_remaining: remaining, reset_date: reset }];
    }
}

function send(res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

function sendText(res, status, text) {
    const type = status === 401 ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8';
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

// ---------------------------------------------------------------------------------------------
// Alone, as a process (the C tests start it so).

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const arg = (name, dflt) => {
        const i = process.argv.indexOf(name);
        return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
    };
    const double = new WebappDouble({ adminKey: arg('--admin-key', 'admin-key') });
    const port = await double.listen(Number(arg('--port', '0')));
    process.stdout.write(`READY port=${port}\n`);
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('close', () => process.exit(0));
    process.stdin.resume();
}
