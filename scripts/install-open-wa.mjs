// Installs @open-wa/wa-automate into .open-wa/, a folder of its own, so the project's own
// `npm install` / `npm ci` never fetches it (about 940 packages, 270 MB).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const version = '4.76.0';
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = process.env.OPEN_WA_RUNTIME_DIR || join(root, '.open-wa');

mkdirSync(dir, { recursive: true });
// The folder ignores itself, so nothing of it is ever committed.
writeFileSync(join(dir, '.gitignore'), '*\n');
writeFileSync(
  join(dir, 'package.json'),
  JSON.stringify({ name: 'wa-gateway-open-wa-runtime', private: true, dependencies: { '@open-wa/wa-automate': version } }, null, 2) + '\n',
);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// --prefix below also moves npm's global config to <prefix>/etc/npmrc: keep the one npm reads otherwise
// (a registry, proxy or CA bundle configured there, as in a container build).
const globalconfig =
  process.env.npm_config_globalconfig ||
  spawnSync(npm, ['config', 'get', 'globalconfig'], { encoding: 'utf8', shell: process.platform === 'win32' }).stdout?.trim();
// --ignore-scripts: the install scripts fetch an unpinned package and edit the nearest .gitignore;
// nothing they do is needed. Chromium comes from the system (PUPPETEER_EXECUTABLE_PATH or /usr/bin/chromium).
const result = spawnSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev', '--prefix', dir], {
  stdio: 'inherit',
  env: { ...process.env, ...(globalconfig ? { npm_config_globalconfig: globalconfig } : {}), PUPPETEER_SKIP_DOWNLOAD: 'true', PUPPETEER_SKIP_CHROMIUM_DOWNLOAD: 'true', SKIP_GITIGNORE_CHECK: '1' },
});
if (result.status !== 0) {
  console.error(`installing @open-wa/wa-automate@${version} into ${dir} failed`);
  process.exit(result.status ?? 1);
}
console.log(`@open-wa/wa-automate@${version} installed into ${dir}`);
