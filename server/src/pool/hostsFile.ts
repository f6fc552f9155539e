/**
 * The `--hosts FILE` of `trajlab generate`: a pool's hosts in YAML or JSON, either a list of
 * hosts or `{hosts: [...]}` (read as util/listFile.ts reads every list file):
 *
 *   hosts:
 *     - url: ssh://me@gpu1
 *       workers: 8
 *       gpus: [0, 1]
 *       labels: {gpu: a100}
 *     - {url: "tcp://gpu2:2376", workers: 4, gpus: "0,1", enabled: false}
 *
 * Each entry is a HostSpec (common/src/run.ts), checked by checkHostSpecs (hostSpec.ts). A bad
 * file is an error `file:line:col: message` at the bad value.
 */
import type { HostSpec } from '../../../common/src/run';
import { ListFileError, parseListFile, readListFile, type ListFileKind } from '../util/listFile';
import { checkHostSpecs } from './hostSpec';

/** A `--hosts` file that cannot be used; the message is `file:line:col: what is wrong`. */
export { ListFileError as HostsFileError };

const HOSTS: ListFileKind<HostSpec> = { key: 'hosts', noun: 'host', example: '{url: ...}', check: checkHostSpecs };

/** The hosts of the `--hosts` file `file` (read as UTF-8), checked (see parseHostsFile). Errors: HostsFileError (`file:1:1: cannot read …`). */
export function readHostsFile(file: string): Promise<HostSpec[]> {
  return readListFile(file, HOSTS);
}

/**
 * The hosts in `text`, the content of a hosts file named `file` (for messages), in file order
 * and normalised as checkHostSpecs does. Errors: HostsFileError `file:line:col: message` (see
 * parseListFile).
 */
export function parseHostsFile(text: string, file: string): HostSpec[] {
  return parseListFile(text, file, HOSTS);
}
