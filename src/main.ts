import { ConfigError, helpText, loadConfig, parseArgs } from './config.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config;
  try {
    const flags = parseArgs(process.argv.slice(2));
    if (flags === null) {
      console.log(helpText());
      return;
    }
    config = loadConfig(flags, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`wa-gateway: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel, {}, undefined, config.logFormat);
  // Loaded only now, so --help and a bad flag answer without building the schema.
  const { buildApp } = await import('./app.js');
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config, { logger });
  } catch (error) {
    // A setting the stored data contradicts (a wrong --auth-state-key): said plainly, like a bad flag.
    if (error instanceof ConfigError) {
      console.error(`wa-gateway: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // The uncaught-error policy (src/http/boundary.ts): log with the request id where known, count, keep serving.
  process.on('uncaughtException', (error) => app.reportUncaught('uncaughtException', error));
  process.on('unhandledRejection', (reason) => app.reportUncaught('unhandledRejection', reason));
  // An open API on a non-loopback address is refused unless asked for: the container image binds 0.0.0.0, and
  // a forgotten API_KEY there would leave every session to whoever reaches the port.
  if (!app.services.auth.enabled && !isLoopback(app.config.host) && !config.auth.allowNoKey) {
    console.error(
      [
        `wa-gateway: refusing to start: no API key is configured and the server would listen on ${app.config.host}, open to anyone who reaches it.`,
        'wa-gateway: set --api-key (API_KEY), or --allow-no-key (ALLOW_NO_KEY=true) to run an open API on purpose, or --host 127.0.0.1.',
      ].join('\n'),
    );
    await app.stop();
    process.exit(2);
  }
  let address;
  try {
    address = await app.start(config.port);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`wa-gateway: cannot listen on ${app.config.host}:${config.port}: ${e.code ?? e.message}`);
    await app.stop();
    process.exit(1);
  }

  if (!app.services.auth.enabled) {
    console.error(
      [
        'wa-gateway: WARNING: no API key is configured, so the API is open to anyone who can reach it.',
        config.host
          ? `wa-gateway: WARNING: listening on ${app.config.host} as --host${config.auth.allowNoKey && !isLoopback(config.host) ? ' and --allow-no-key' : ''} asked; set --api-key (API_KEY) before exposing it.`
          : 'wa-gateway: WARNING: listening on 127.0.0.1 only; set --api-key (API_KEY) before exposing it, or --host to bind elsewhere.',
      ].join('\n'),
    );
  }

  console.log(
    [
      `wa-gateway listening on ${address.url} (engine ${config.engine}, data ${config.dataDir})`,
      ...(config.dashboard ? [`  Dashboard           ${address.url}/`] : []),
      `  GraphQL + GraphiQL  ${address.url}/graphql`,
      `  graphql-ws          ${address.url.replace(/^http/, 'ws')}/graphql`,
      `  REST base           ${address.url}/api/v1`,
      `  Health              ${address.url}/health`,
      `  Metrics             ${address.url}/metrics`,
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      console.error('wa-gateway: shutdown took too long, exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`wa-gateway: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

main().catch((error: unknown) => {
  console.error(`wa-gateway: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
