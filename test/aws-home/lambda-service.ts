/**
 * The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) in front of the function pools, so
 * a function that invokes another (the dispatcher pushing to a consumer) does it through the unmodified SDK,
 * authorised by `lambda:InvokeFunction` in its role, with Lambda's answers: a function error is 200 with
 * `X-Amz-Function-Error: Unhandled`; a denial is 403 `AccessDeniedException`; a throttle is 429
 * `TooManyRequestsException`. An asynchronous invocation (`X-Amz-Invocation-Type: Event`) is answered 202 at
 * once and run in the background; a throttled one is retried (Lambda keeps retrying throttled events for up to
 * six hours). Not emulated: async retries of function errors (Lambda retries them twice, minutes apart) and
 * Lambda's event queue delay.
 */
import { randomUUID } from 'node:crypto';
import { listen, readBody, send } from './http-proxy';
import type { InvokeResult } from './lambda-pool';
import type { Principals } from './principals';
import type { FunctionModel } from './stack-model';

export async function startLambdaService(options: {
  principals: Principals;
  functions: Map<string, FunctionModel>;
  invoke(functionId: string, event: string): Promise<InvokeResult>;
}) {
  const stats = { requests: 0, denials: 0, asyncInvocations: 0 };
  let closed = false;
  const runAsync = async (id: string, event: string) => {
    for (let attempt = 0; !closed && attempt < 600; attempt++) {
      const outcome = await options.invoke(id, event).catch(() => undefined);
      if (!outcome || outcome.ok || outcome.status !== 429) return;
      await new Promise((r) => setTimeout(r, 100 * Math.min(10, attempt + 1)));
    }
  };
  const byName = (name: string) =>
    [...options.functions.values()].find((f) => f.name === name || f.arn === name || f.arn === name.replace(/:\$LATEST$/, ''));
  const error = (res: Parameters<typeof send>[0], status: number, type: string, message: string) =>
    send(
      res,
      status,
      { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() },
      JSON.stringify({ Type: 'User', Message: message }),
    );

  const server = await listen(
    async (req, res) => {
      stats.requests++;
      const body = (await readBody(req)).toString('utf8');
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      const fn = m ? byName(decodeURIComponent(m[1])) : undefined;
      const principal = options.principals.fromHeaders(req.headers);
      if (!principal) return error(res, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      if (!fn) return error(res, 404, 'ResourceNotFoundException', `Function not found: ${m?.[1]}`);
      const denial = options.principals.authorize(principal, [{ action: 'lambda:InvokeFunction', resource: fn.arn }]);
      if (denial) {
        stats.denials++;
        return error(res, 403, 'AccessDeniedException', denial.message);
      }
      if (String(req.headers['x-amz-invocation-type'] ?? '').toLowerCase() === 'event') {
        stats.asyncInvocations++;
        send(res, 202, { 'x-amzn-requestid': randomUUID() }, '');
        void runAsync(fn.logicalId, body || '{}');
        return;
      }
      const outcome = await options.invoke(fn.logicalId, body || '{}');
      const headers = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', 'x-amzn-requestid': randomUUID() };
      if (outcome.ok) return send(res, 200, headers, outcome.payload);
      if (!outcome.functionError) return error(res, outcome.status, outcome.errorType, outcome.errorMessage);
      send(
        res,
        200,
        { ...headers, 'x-amz-function-error': 'Unhandled' },
        JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage }),
      );
    },
    (e) => console.error('lambda service', e),
  );
  return {
    url: server.url,
    stats,
    close: () => {
      closed = true;
      return server.close();
    },
  };
}
