/**
 * A scan thread's entry (scanFiles.ts starts it): bundled by scripts/build.mjs as
 * dist/scanWorker.js, run from sources by tsx.
 */
import { parentPort } from 'node:worker_threads';
import { serveScanThread } from './scanFiles';

if (parentPort) serveScanThread(parentPort);
