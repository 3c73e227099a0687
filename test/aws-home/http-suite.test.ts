/**
 * The HTTP contract suite, unchanged, through the AWS home as AWS runs it: API Gateway routes from the
 * template, each route's function as its own pool of bundle instances, each SDK call authorised by that
 * function's role. A call a role lacks fails the case (and is counted as a denial: there must be none).
 */
import { startAwsHarness, type AwsHarness } from './harness';
import { httpSuite } from '../http/suite';

let aws: AwsHarness;

httpSuite('AWS home as AWS runs it (template IAM, Lambda instances, API Gateway routes)', async () => {
  aws = await startAwsHarness();
  return {
    fetch: (path, init) => fetch(`${aws.url}${path}`, init),
    close: async () => {
      const stats = aws.stats();
      await aws.close();
      // A denial anywhere in the suite is a role that lacks what its function does.
      expect(stats.denials).toEqual({});
    },
  };
});
