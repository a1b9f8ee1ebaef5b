import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The page and its stylesheet are served from dashboard/ as written; its scripts are compiled from
// dashboard/src/*.ts into dist/dashboard/ by `npm run build` (which `npm install` runs).

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dashboard'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

const root = projectRoot();
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// blob: for images, audio and video: the chat view fetches media with the API key and shows it from a blob.
const CSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The file behind a dashboard URL, or null: `/`, `/dashboard/<name>.css|.svg`, `/dashboard/<name>.js`. */
function fileFor(path: string): string | null {
  if (path === '/' || path === '/index.html') return join(root, 'dashboard', 'index.html');
  const match = /^\/dashboard\/([a-z0-9-]+)(\.css|\.svg|\.js)$/.exec(path);
  if (!match) return null;
  const [, name, ext] = match;
  return ext === '.js' ? join(root, 'dist', 'dashboard', `${name}.js`) : join(root, 'dashboard', `${name}${ext}`);
}

export function isDashboardPath(path: string): boolean {
  return fileFor(path) !== null;
}

export function serveDashboard(req: IncomingMessage, res: ServerResponse, path: string): void {
  const file = fileFor(path);
  if (!file || !existsSync(file)) {
    const built = existsSync(join(root, 'dist', 'dashboard'));
    res.writeHead(built ? 404 : 503, { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': String(req.headers['x-request-id'] ?? '') });
    res.end(built ? 'Not found\n' : 'The dashboard is not built: run `npm run build`\n');
    return;
  }
  const body = readFileSync(file);
  res.writeHead(200, {
    'content-type': types[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'x-request-id': String(req.headers['x-request-id'] ?? ''),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
