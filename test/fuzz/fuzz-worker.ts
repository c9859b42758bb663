/** Worker-thread entry of a fuzz run (see fuzz-client.ts): options in `workerData`, the report posted back. */
import { parentPort, workerData } from 'node:worker_threads';
import { type FuzzOptions, runFuzz } from './fuzz-client.ts';

parentPort!.postMessage(await runFuzz(workerData as FuzzOptions));
