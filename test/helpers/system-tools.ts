// Suites that need something npm does not install (a browser, python3's requests, the open-wa runtime) are
// skipped with the reason when it is missing, so `npm install && npm test` passes on a bare machine and says
// what it left out. Under CI nothing may be skipped for that reason: the suite runs and fails with it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOpenWaSettings } from '../../src/engine/open-wa/open-wa-engine.js';

export type SystemTool = 'chromium' | 'python3-requests' | 'open-wa' | 'podman';

/** The browser the dashboard and docs tests drive (the open-wa engine reads PUPPETEER_EXECUTABLE_PATH itself). */
export const CHROMIUM = process.env.CHROMIUM_PATH || process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';

export const inCi = !['', '0', 'false', undefined].includes(process.env.CI?.toLowerCase());

const checks: Record<SystemTool, () => string | null> = {
  chromium: () => (existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`),
  'python3-requests': () => {
    const r = spawnSync('python3', ['-c', 'import requests'], { encoding: 'utf8' });
    if (r.error) return 'python3 not found (apt-get install -y python3 python3-requests)';
    return r.status === 0 ? null : "python3 cannot import requests (apt-get install -y python3-requests, or pip install requests)";
  },
  // The container tests build and run images as root with podman and runc, from base images made with debootstrap.
  podman: () => {
    const missing = ['podman', 'runc', 'debootstrap', 'podman-compose'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
    if (missing.length) return `${missing.join(', ')} not found (apt-get install -y podman runc uidmap debootstrap podman-compose)`;
    return process.getuid?.() === 0 ? null : 'the container tests run podman and debootstrap as root';
  },
  'open-wa': () => {
    const { runtimeDir, executablePath } = defaultOpenWaSettings();
    const missing: string[] = [];
    if (!existsSync(join(runtimeDir, 'node_modules', '@open-wa', 'wa-automate', 'package.json'))) missing.push('the open-wa runtime (npm run install:open-wa)');
    if (!existsSync(executablePath)) missing.push(`Chromium at ${executablePath} (apt-get install -y chromium)`);
    return missing.length ? `missing ${missing.join(' and ')}` : null;
  },
};

const memo = new Map<SystemTool, string | null>();

/** Why the tools are unusable here, or null when all are present. */
export function missingTools(...tools: SystemTool[]): string | null {
  const reasons = tools.map((tool) => {
    if (!memo.has(tool)) memo.set(tool, checks[tool]());
    return memo.get(tool)!;
  });
  const found = reasons.filter((r): r is string => r !== null);
  return found.length ? found.join('; ') : null;
}

/**
 * Test options for a suite that needs `tools`: `{ skip: reason }` when one is missing, except under CI, where
 * the suite runs and must call requireTools() first so it fails with the same reason.
 */
export function needs(...tools: SystemTool[]): { skip: string | false } {
  const reason = missingTools(...tools);
  return { skip: reason && !inCi ? reason : false };
}

/** Throws the reason when a tool is missing (under CI this is how a would-be skip fails). */
export function requireTools(...tools: SystemTool[]): void {
  const reason = missingTools(...tools);
  if (reason) throw new Error(`${inCi ? 'CI=true refuses to skip: ' : ''}${reason}`);
}
