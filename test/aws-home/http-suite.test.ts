/**
 * The HTTP contract suite, unchanged, through the AWS home as AWS runs it: API Gateway routes from the
 * template, each route's function as its own pool of bundle instances, each SDK call authorised by that
 * function's role. A call a role lacks fails the case (and is counted as a denial: there must be none).
 */
import { startAwsHarness, type AwsHarness } from './harness';
import { httpSuite } from '../http/suite';

let aws: AwsHarness;

httpSuite('AWS home as AWS runs it (template IAM, Lambda instances, API Gateway routes)', async () => {
  // The delay timer's watch window, shortened so its runs follow each other as a schedule would start them.
  aws = await startAwsHarness({ env: { FerryMaintenanceFunction: { FERRY_DELAY_WINDOW_MS: '1500' } } });
  // Delayed records are moved by the scheduled maintenance function, never by reads: keep it running.
  let running = true;
  const timer = (async () => {
    while (running) {
      await aws.invoke(aws.fn('Maintenance').logicalId, { job: 'delayed' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    fetch: (path, init) => fetch(`${aws.url}${path}`, init),
    close: async () => {
      running = false;
      await timer;
      const stats = aws.stats();
      await aws.close();
      // A denial anywhere in the suite is a role that lacks what its function does.
      expect(stats.denials).toEqual({});
    },
  };
});
