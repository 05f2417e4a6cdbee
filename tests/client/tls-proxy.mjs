// A TLS-terminating proxy for the client's wss:// tests: accepts TLS with the given
// certificate and key and pipes each connection to a plain TCP port on 127.0.0.1.
// Usage: node tls-proxy.mjs --cert FILE --key FILE --target PORT [--port N]
// Prints `READY port=<n>` once it listens, like the servers under test.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const opts = { port: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
if (!opts.cert || !opts.key || !opts.target) {
    console.error('usage: tls-proxy.mjs --cert FILE --key FILE --target PORT [--port N]');
    process.exit(2);
}

const server = tls.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) },
    (client) => {
        const upstream = net.connect(Number(opts.target), '127.0.0.1');
        const end = () => {
            client.destroy();
            upstream.destroy();
        };
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('error', end);
        upstream.on('error', end);
        client.on('close', end);
        upstream.on('close', end);
    });
// A client that refuses our certificate aborts the handshake: not an error for the proxy.
server.on('tlsClientError', () => {});
server.listen(Number(opts.port), '127.0.0.1', () => {
    process.stdout.write(`READY port=${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
