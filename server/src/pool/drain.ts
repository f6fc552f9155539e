/**
 * Drained hosts of an output root: `<out>/hosts-drained.json`, a JSON list of host URLs
 * (credentials removed, user kept). `trajlab hosts drain <url>` and the Hosts view's Drain
 * action write it; every pool run under that root reads it about once a second and places no
 * new attempt on a drained host (its running attempts finish). One file, so that a drain
 * reaches a run whatever process runs it (CLI or daemon).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../util/fsAtomic';
import { withoutCredentials } from '../util/urlCredentials';

/** The drain file of output root `out`. */
export function drainFile(out: string): string {
  return path.join(out, 'hosts-drained.json');
}

/** A host URL as the drain file and pool compare it: no password, user kept, no trailing slash. */
export function hostKey(url: string): string {
  return withoutCredentials(url, { keepUser: true }).replace(/\/+$/, '');
}

/**
 * The hosts drained under `out` (hostKey form); none when the file is missing. Errors: the file
 * is not a JSON list of strings (the message names it), read errors.
 */
export async function readDrained(out: string): Promise<string[]> {
  const file = drainFile(out);
  const value = await readJsonIfExists<unknown>(file);
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${file} must be a JSON list of host URLs (remove it to undrain every host)`);
  }
  return value as string[];
}

/**
 * Drains (`drain` true) or undrains `url` under `out` and returns the hosts drained now.
 * Errors: as readDrained, and write errors.
 */
export async function setDrained(out: string, url: string, drain: boolean): Promise<string[]> {
  const key = hostKey(url);
  const now = (await readDrained(out)).filter((h) => h !== key);
  if (drain) now.push(key);
  await fs.promises.mkdir(out, { recursive: true });
  await writeJsonAtomic(drainFile(out), now);
  return now;
}
