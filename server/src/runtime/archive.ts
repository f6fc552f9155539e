/**
 * Reading and writing single files in a sandbox's container through the Docker archive API
 * (tar streams; works on remote hosts, needs nothing in the image).
 */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import type { Sandbox } from './sandbox';

/**
 * Reads one file from the container through the archive API (at most `maxBytes` bytes of it).
 * Returns undefined when it does not exist. Errors: the path is a directory, a symlink or
 * another non-regular file (the message says which: tar-stream's entry type), or an engine
 * error.
 */
export async function readContainerFile(sandbox: Sandbox, file: string, maxBytes = 8 * 1024 * 1024): Promise<Buffer | undefined> {
  let archive: Readable;
  try {
    archive = await sandbox.getArchive(file);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
  const extract = tarStream.extract();
  let content: Buffer | undefined;
  let kind: string | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    let size = 0;
    if (kind === undefined) kind = header.type;
    stream.on('data', (c: unknown) => {
      const b = c as Buffer;
      size += b.length;
      if (size <= maxBytes) chunks.push(b);
    });
    stream.on('end', () => {
      if (content === undefined && header.type === 'file') content = Buffer.concat(chunks);
      next();
    });
    stream.resume();
  });
  await pipeline(archive, extract);
  if (kind === 'directory') throw new Error(`${file} is a directory`);
  if (kind !== undefined && kind !== 'file') throw new Error(`${file} is not a regular file (a ${kind})`);
  return content;
}

/** Writes one file into the container through the archive API (creating it; mode 0644). */
export async function writeContainerFile(sandbox: Sandbox, file: string, content: string | Buffer): Promise<void> {
  const pack = tarStream.pack();
  pack.entry({ name: path.posix.basename(file), mode: 0o644 }, typeof content === 'string' ? Buffer.from(content) : content);
  pack.finalize();
  await sandbox.putArchive(pack as unknown as Readable, path.posix.dirname(file));
}

/**
 * Writes `files` (name → content) into the folder `dir` of the container in one archive: the
 * folder (mode 0755) is made in its parent, which must exist, and files already there of the
 * same names are replaced (mode 0644). Errors: the engine's (a missing parent, a read-only path).
 */
export async function writeContainerFolder(sandbox: Sandbox, dir: string, files: Record<string, string | Buffer>): Promise<void> {
  const pack = tarStream.pack();
  const name = path.posix.basename(dir);
  pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755 });
  for (const [file, content] of Object.entries(files)) pack.entry({ name: `${name}/${file}`, mode: 0o644 }, typeof content === 'string' ? Buffer.from(content) : content);
  pack.finalize();
  await sandbox.putArchive(pack as unknown as Readable, path.posix.dirname(dir));
}
