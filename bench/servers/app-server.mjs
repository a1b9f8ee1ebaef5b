// The real gateway for the bench: the compiled app (npm run build) built with buildApp, in its own process.
// Usage: node bench/servers/app-server.mjs '<config overrides as JSON>'; prints {"port":N} once listening.
import { buildApp } from '../../dist/src/app.js';

const app = await buildApp(JSON.parse(process.argv[2] ?? '{}'));
const { port } = await app.start(0);
process.stdout.write(`${JSON.stringify({ port })}\n`);
const stop = () => app.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
