/**
 * The server side of bench/scenario-runs.ts: a testbed (default fixture, no mock APIs) in a process
 * of its own, started with --expose-gc, that answers its parent over IPC with its memory after a
 * full collection.
 */
import { startTestbed } from '../../src/index.ts';

const testbed = await startTestbed({ port: 0, apis: false, logLevel: 'error' });
const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'rss') {
    gc?.();
    gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send!({ rss, heapUsed });
  } else if (message.cmd === 'stop') {
    void testbed.stop().then(() => process.exit(0));
  }
});
process.send!({ port: new URL(testbed.issuer).port, issuer: testbed.issuer });
