/**
 * The token sidecar of a trajectory (`--record-tokens`): `<trajectory>.tokens.jsonl.gz` beside
 * `<trajectory>.json`, one JSON line per step, `{"index": <step>, "prompt_token_ids": [...],
 * "completion_token_ids": [...], "logprobs": [...]}`, each line its own gzip member appended as
 * the step finishes (RFC 1952 §2.2: a gzip file is a series of members; zlib's gunzip reads them
 * all). Written before the step enters the trajectory's journal, so a recorded step always has
 * its line; a step redone after a crash appends a new line, and the last line of an index wins.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { StepTokens, Trajectory } from '../../../common/src/trajectory';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** The sidecar of the trajectory file `trajectoryFile` (`x.json` → `x.tokens.jsonl.gz`). */
export function tokenSidecarPath(trajectoryFile: string): string {
  return trajectoryFile.replace(/\.json$/, '') + '.tokens.jsonl.gz';
}

/** Appends step `index`'s tokens to the sidecar of `trajectoryFile`. Errors: the write failed. */
export async function appendStepTokens(trajectoryFile: string, index: number, tokens: StepTokens): Promise<void> {
  const member = await gzip(Buffer.from(JSON.stringify({ index, ...tokens }) + '\n'));
  await fs.promises.appendFile(tokenSidecarPath(trajectoryFile), member);
}

/**
 * The tokens of each step of the sidecar of `trajectoryFile`, by step index (the last line of an
 * index wins); empty when there is no sidecar. Errors: a sidecar that is not gzip or not JSON lines.
 */
export async function readStepTokens(trajectoryFile: string): Promise<Map<number, StepTokens>> {
  let packed: Buffer;
  try {
    packed = await fs.promises.readFile(tokenSidecarPath(trajectoryFile));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const out = new Map<number, StepTokens>();
  for (const line of (await gunzip(packed)).toString('utf8').split('\n')) {
    if (!line) continue;
    const { index, ...tokens } = JSON.parse(line) as StepTokens & { index: number };
    out.set(index, tokens);
  }
  return out;
}

/** Fills `token_data` of the steps of `t` (read from `trajectoryFile`) that have a `token_record`, from its sidecar. Errors: as readStepTokens. */
export async function attachStepTokens(t: Trajectory, trajectoryFile: string): Promise<void> {
  if (!t.steps.some((s) => s.token_record)) return;
  const tokens = await readStepTokens(trajectoryFile);
  for (const s of t.steps) {
    const data = s.token_record ? tokens.get(s.index) : undefined;
    if (data) s.token_data = data;
  }
}
