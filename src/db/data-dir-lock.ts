import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in the data folder that names the Trellis process serving from it. */
const LOCK_FILE = 'trellis.pid';

/** Thrown when another live Trellis serves from the data folder: this start must not touch its PostgreSQL. */
export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the data folder ${dataDir} is in use by a running Trellis (pid ${pid}): stop it first, or start this one with another TRELLIS_DATA_DIR`);
  }
}

/**
 * Claims the embedded data folder for this process. A folder named by a live process is refused
 * (starting would stop or reset the PostgreSQL that server uses); one named by a dead process (a
 * server killed outright) is taken over, and so is its orphaned PostgreSQL. Returns the release.
 */
export function claimDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isTrellis(pid)) throw new DataDirInUse(dataDir, pid);
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    // Only its own claim: a later server may have taken the folder over.
    if (existsSync(file) && Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true });
  };
}

/** Whether `pid` is alive and, where /proc says so, a Node process (a recycled pid of anything else is no server). */
function isTrellis(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}
