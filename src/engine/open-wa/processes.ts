// Finding a session's browser by its profile folder. Puppeteer starts Chromium in a process group of
// its own, and a failed start of the library leaves it running, so killing the worker's group is not
// enough: every process whose command line names the session's folder is killed as well.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids (other than this process) whose command line contains `marker`. Linux only (/proc); [] elsewhere. */
export function processesMentioning(marker: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs each process naming `marker` and, where it leads one, its process group. Returns the pids. */
export function killProcessesMentioning(marker: string): number[] {
  const pids = processesMentioning(marker);
  for (const pid of pids) {
    killGroup(pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}

export function killGroup(leader: number): void {
  try {
    process.kill(-leader, 'SIGKILL');
  } catch {
    // not a group leader, or already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
