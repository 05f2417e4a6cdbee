// A test double of the part of GitHub's REST API that publishing uses:
// PATCH /repos/{owner}/{repo} with a JSON body (e.g. {"private": false}) updates the
// repository and answers 200 with its representation; GET answers it too. As documented:
// a missing or wrong token is 401 {"message":"Bad credentials"}; a token without admin rights
// on the repository, or a repository it cannot see, is 404 {"message":"Not Found"}; a body that
// is not JSON is 400 {"message":"Problems parsing JSON"}; "private" must be a boolean (422).
// Every request is recorded with the token it carried.
import http from 'node:http';

export class GitHubDouble {
    /** repos: {"owner/repo": {private: true, adminTokens: ["tok"]}} */
    constructor(repos) {
        this.repos = new Map(Object.entries(repos).map(([k, v]) => [k, { ...v }]));
        this.requests = [];
        this.server = http.createServer((req, res) => this.handle(req, res));
    }

    async start() {
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
        return this;
    }

    get url() {
        return `http://127.0.0.1:${this.port}`;
    }

    stop() {
        return new Promise((resolve) => this.server.close(resolve));
    }

    answer(res, status, body) {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
    }

    handle(req, res) {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => {
            const auth = req.headers.authorization || '';
            const m = auth.match(/^(?:Bearer|token) (.+)$/);
            const token = m ? m[1] : null;
            this.requests.push({ method: req.method, path: req.url, token, body,
                accept: req.headers.accept, apiVersion: req.headers['x-github-api-version'],
                userAgent: req.headers['user-agent'] });
            const known = new Set([...this.repos.values()].flatMap((r) => r.adminTokens));
            if (!token || !known.has(token)) return this.answer(res, 401, { message: 'Bad credentials' });
            const path = req.url.match(/^\/repos\/([^/]+\/[^/?]+)$/);
            const repo = path && this.repos.get(path[1]);
            if (!repo || !repo.adminTokens.includes(token)) return this.answer(res, 404, { message: 'Not Found' });
            if (req.method === 'GET') return this.answer(res, 200, { full_name: path[1], private: repo.private });
            if (req.method !== 'PATCH') return this.answer(res, 404, { message: 'Not Found' });
            let patch;
            try {
                patch = JSON.parse(body);
            } catch {
                return this.answer(res, 400, { message: 'Problems parsing JSON' });
            }
            if ('private' in patch && typeof patch.private !== 'boolean') {
                return this.answer(res, 422, { message: 'Validation Failed' });
            }
            if ('private' in patch) repo.private = patch.private;
            return this.answer(res, 200, { full_name: path[1], private: repo.private, visibility: repo.private ? 'private' : 'public' });
        });
    }
}
