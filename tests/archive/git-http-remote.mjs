// A git remote over smart HTTP for the archive's tests: `git http-backend` (CGI) behind a
// Node HTTP server that, like a hosted git service, wants Basic authentication with the user
// x-access-token and a given token (401 with a WWW-Authenticate challenge otherwise). Records
// the credentials each request carried.
import { spawn } from 'node:child_process';
import http from 'node:http';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export class GitHttpRemote {
    constructor(root, token) {
        this.root = root;
        this.token = token;
        this.seen = [];
        this.server = http.createServer((req, res) => this.handle(req, res));
    }

    async start() {
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.port = this.server.address().port;
        return this;
    }

    url(repo) {
        return `http://127.0.0.1:${this.port}/${repo}`;
    }

    stop() {
        return new Promise((resolve) => this.server.close(resolve));
    }

    handle(req, res) {
        const auth = req.headers.authorization || '';
        const m = auth.match(/^Basic (.+)$/);
        const creds = m ? Buffer.from(m[1], 'base64').toString() : null;
        this.seen.push(creds);
        if (creds !== `x-access-token:${this.token}`) {
            res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
            res.end('authentication required\n');
            req.resume();
            return;
        }
        const url = new URL(req.url, 'http://x');
        const cgi = spawn(BACKEND, [], {
            env: {
                GIT_PROJECT_ROOT: this.root,
                GIT_HTTP_EXPORT_ALL: '1',
                REMOTE_USER: 'x-access-token',
                REQUEST_METHOD: req.method,
                PATH_INFO: decodeURIComponent(url.pathname),
                QUERY_STRING: url.search.slice(1),
                CONTENT_TYPE: req.headers['content-type'] || '',
                HTTP_CONTENT_ENCODING: req.headers['content-encoding'] || '',
                GIT_PROTOCOL: req.headers['git-protocol'] || '',
            },
            stdio: ['pipe', 'pipe', 'ignore'],
        });
        req.pipe(cgi.stdin);
        const chunks = [];
        cgi.stdout.on('data', (d) => chunks.push(d));
        cgi.on('close', () => {
            const out = Buffer.concat(chunks);
            const split = out.indexOf('\r\n\r\n');
            const head = out.subarray(0, split).toString().split('\r\n');
            const headers = {};
            let status = 200;
            for (const line of head) {
                const i = line.indexOf(':');
                const k = line.slice(0, i).trim().toLowerCase();
                const v = line.slice(i + 1).trim();
                if (k === 'status') status = Number(v.split(' ')[0]);
                else headers[k] = v;
            }
            res.writeHead(status, headers);
            res.end(out.subarray(split + 4));
        });
    }
}
