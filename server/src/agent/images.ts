/**
 * Task images (a task's `images`, common/src/task.ts): resolved once per attempt into
 * ChatImage references (absolute path, MIME type, SHA-256, size) that ride on the first user
 * message, and read back into data URLs when the model client sends that message (OpenAI
 * vision input: an `image_url` content part whose `url` is `data:<mime>;base64,<bytes>`,
 * https://platform.openai.com/docs/guides/images-vision). The trajectory never holds the bytes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TASK_IMAGE_MIME, taskImageMime } from '../../../common/src/task';
import type { ChatImage } from '../../../common/src/trajectory';

/** Largest image sent, bytes (20 MiB, OpenAI's per-image limit for vision input). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/**
 * Resolves a task's `images` (paths relative to `tasksDir`, or absolute) into ChatImage
 * references, in order, reading each file once to hash it.
 * Errors (an Error whose message names the path as written and the file looked for): an
 * extension outside TASK_IMAGE_MIME, a file that does not exist or cannot be read, a folder,
 * a file over MAX_IMAGE_BYTES.
 */
export async function resolveTaskImages(images: readonly string[], tasksDir: string): Promise<ChatImage[]> {
  const out: ChatImage[] = [];
  for (const [i, written] of images.entries()) {
    const file = path.resolve(tasksDir, written);
    const where = `task image ${i + 1} ${JSON.stringify(written)}`;
    const mime = taskImageMime(written);
    if (!mime) throw new Error(`${where} is not a ${Object.keys(TASK_IMAGE_MIME).join(' / ')} file: rename or convert it`);
    let data: Buffer;
    try {
      data = await readImage(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const what = e.code === 'ENOENT' ? 'does not exist' : e.code === 'EISDIR' ? 'is a folder' : `cannot be read (${e.message})`;
      throw new Error(`${where} ${what} (looked for ${file}): the attempt cannot start; fix the path in "images" (relative to the tasks file, or absolute)`);
    }
    out.push({ path: file, mime, sha256: sha256Hex(data), bytes: data.length });
  }
  return out;
}

/**
 * The data URL of `image` (`data:<mime>;base64,<bytes>`), read from its file now.
 * Errors: the file is gone or unreadable, or its SHA-256 is no longer the recorded one (it
 * changed since the attempt recorded it: the model would see another image than the trajectory
 * says).
 */
export async function imageDataUrl(image: ChatImage): Promise<string> {
  let data: Buffer;
  try {
    data = await readImage(image.path);
  } catch (err) {
    throw new Error(`cannot read the image ${image.path} to send it to the model: ${(err as Error).message}`);
  }
  const sha = sha256Hex(data);
  if (sha !== image.sha256) {
    throw new Error(`the image ${image.path} changed since the attempt recorded it (sha256 ${sha}, recorded ${image.sha256}): restore it or start a new run`);
  }
  return `data:${image.mime};base64,${data.toString('base64')}`;
}

async function readImage(file: string): Promise<Buffer> {
  const st = await fs.promises.stat(file);
  if (st.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
  if (st.size > MAX_IMAGE_BYTES) throw new Error(`${st.size} bytes, over the ${MAX_IMAGE_BYTES}-byte limit per image`);
  return fs.promises.readFile(file);
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
