// A PostgreSQL server of a test's own (initdb into a temp dir, pg_ctl on a free port, trust auth), for tests
// that stop and start the database: the shared server is never stopped. As root, initdb and the server run
// as the postgres user (PostgreSQL refuses to run as root).
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inCi } from './system-tools.js';
import { freePort } from './webhooks.js';

const run = promisify(execFile);

/** The newest installed server's programs (Debian's layout, else PATH). */
function binDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'dirname "$(command -v pg_ctl)"'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() && found.stdout.trim() !== '.' ? found.stdout.trim() : null;
}

const asRoot = process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Why a private PostgreSQL cannot run here, or null. */
export function privatePostgresMissing(): string | null {
  const bin = binDir();
  if (!bin || !existsSync(join(bin, 'initdb'))) return 'initdb and pg_ctl not found (apt-get install -y postgresql)';
  if (asRoot && !postgresUser()) return 'running as root without a postgres user to run the server as';
  if (asRoot && spawnSync('runuser', ['--help'], { stdio: 'ignore' }).error) return 'runuser not found (util-linux)';
  return null;
}

/** Test options: skipped with the reason when a private PostgreSQL cannot run, except under CI. */
export function needsPrivatePostgres(): { skip: string | false } {
  const reason = privatePostgresMissing();
  return { skip: reason && !inCi ? reason : false };
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  port: number;
  running: boolean;
  /** Stops it; `fast` ends the connections and shuts down cleanly, `immediate` is a crash (recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

const instances = new Set<string>();
// A test file that times out never reaches its cleanup: its servers stop when its process exits.
process.on('exit', () => {
  const bin = binDir();
  if (!bin) return;
  for (const dir of instances) {
    spawnSync(...command(bin, 'pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore', timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  }
});

function command(bin: string, program: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
}

/** initdb into a new temp dir and start it on a free loopback port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const reason = privatePostgresMissing();
  if (reason) throw new Error(`${inCi ? 'CI=true refuses to skip: ' : ''}${reason}`);
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'wa-gateway-pg-'));
  instances.add(dir);
  chmodSync(dir, 0o700);
  if (asRoot) {
    const user = postgresUser()!;
    chownSync(dir, user.uid, user.gid);
  }
  const data = join(dir, 'data');
  const exec = (program: string, args: string[]) => run(...command(bin, program, args), { timeout: 60_000 });
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  // The socket in its own folder; fsync off: a clean stop still writes everything, and the disk is shared.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const instance: PrivatePostgres = {
    port,
    running: false,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
      instance.running = true;
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      instance.running = false;
    },
    async dispose() {
      if (instance.running) await instance.stop('immediate').catch(() => undefined);
      instances.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}
