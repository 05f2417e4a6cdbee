// The reference server: socket.io 4.8.4 from npm with the handlers of docs/CONFORMANCE.md and
// the same command line as `crowdai-broker --conformance`, for differential tests and benchmarks.
import http from 'node:http';
import { Server } from 'socket.io';
import { attach as attachEngine } from 'engine.io';

function parseArgs(argv) {
    const opts = {
        host: '127.0.0.1',
        port: 3000,
        pingInterval: 300,
        pingTimeout: 200,
        maxPayload: 1000000,
        connectTimeout: 1000,
        upgradeTimeout: 10000,
    };
    const names = {
        '--host': 'host',
        '--port': 'port',
        '--ping-interval': 'pingInterval',
        '--ping-timeout': 'pingTimeout',
        '--max-payload': 'maxPayload',
        '--connect-timeout': 'connectTimeout',
        '--upgrade-timeout': 'upgradeTimeout',
    };
    // Limits of ours that socket.io has no setting for are accepted and ignored, so that the
    // same command lines work for both servers.
    const ignored = new Set(['--max-header-bytes', '--max-headers', '--header-timeout',
        '--max-connections', '--max-output', '--max-attachments', '--max-packets']);
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--conformance') continue;
        if (ignored.has(argv[i]) && i + 1 < argv.length) {
            i++;
            continue;
        }
        const key = names[argv[i]];
        if (!key || i + 1 >= argv.length) {
            console.error(`unknown or incomplete option: ${argv[i]}`);
            process.exit(2);
        }
        opts[key] = key === 'host' ? argv[++i] : Number(argv[++i]);
    }
    return opts;
}

function addHandlers(nsp) {
    nsp.use((socket, next) => {
        if (socket.handshake.auth && socket.handshake.auth.reject === true)
            next(new Error('Not authorized'));
        else next();
    });
    nsp.on('connection', (socket) => {
        socket.emit('auth', socket.handshake.auth || {});
        socket.on('message', (...args) => socket.emit('message-back', ...args));
        socket.on('message-with-ack', (...args) => {
            const ack = args.pop();
            if (typeof ack === 'function') ack(...args);
        });
        socket.on('server-ack-please', (...args) => {
            socket.timeout(5000).emit('server-ack-request', ...args, (err, ...reply) => {
                if (err) socket.emit('server-ack-timeout');
                else socket.emit('server-ack-result', ...reply);
            });
        });
        socket.on('join', (room, ack) => {
            socket.join(room);
            if (typeof ack === 'function') ack(room);
        });
        socket.on('leave', (room, ack) => {
            socket.leave(room);
            if (typeof ack === 'function') ack(room);
        });
        socket.on('to-room', (room, ...args) => nsp.to(room).emit('room-message', ...args));
        socket.on('broadcast', (...args) => nsp.emit('broadcast-message', ...args));
        socket.on('disconnect-me', () => socket.disconnect());
    });
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer();
const common = {
    pingInterval: opts.pingInterval,
    pingTimeout: opts.pingTimeout,
    maxHttpBufferSize: opts.maxPayload,
    upgradeTimeout: opts.upgradeTimeout,
    allowEIO3: true,
};
const io = new Server(httpServer, { ...common, connectTimeout: opts.connectTimeout, cors: { origin: '*' } });
addHandlers(io.of('/'));
addHandlers(io.of('/custom'));

// The raw Engine.IO echo on /engine.io/, as the engine.io-protocol suite expects.
const engine = attachEngine(httpServer, { ...common, path: '/engine.io/' });
engine.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));

httpServer.listen(opts.port, opts.host, () => {
    process.stdout.write(`READY port=${httpServer.address().port}\n`);
});
const stop = () => {
    io.close();
    engine.close();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
