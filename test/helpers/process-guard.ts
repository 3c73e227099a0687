/**
 * jest `setupFilesAfterEnv`: after every test file (its own afterAll hooks have run), kill whatever process
 * it started that is still alive — so a timed-out test cannot keep jest waiting forever — and fail the file,
 * naming the leaked command. Processes started through `test/helpers/processes.ts` are the only ones tests
 * start.
 */
import { killAllTracked } from './processes';

afterAll(() => {
  const leaked = killAllTracked();
  if (leaked.length) {
    throw new Error(`this test file left ${leaked.length} process(es) running (killed now):\n  ${leaked.join('\n  ')}`);
  }
});
