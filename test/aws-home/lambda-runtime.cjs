/**
 * One Lambda instance (the harness forks one per instance): loads the function's code as the Node.js runtime
 * does (`file.export` from the code directory, modules from the code's own node_modules or NODE_PATH — the
 * stand-in for the runtime's /var/runtime/node_modules), then serves one invocation at a time over IPC.
 * A load failure is reported on every invocation as `Runtime.ImportModuleError`, as Lambda does.
 */
'use strict';
const path = require('node:path');

const codeDir = process.env.LAMBDA_TASK_ROOT;
const [file, exportName] = process.env._HANDLER.split('.');

// Calls to the API's execute-api host go to the harness's API Gateway (the host stays in x-forwarded-host).
const apiUrl = process.env.FERRY_HARNESS_EXECUTE_API;
if (apiUrl) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!/\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(url.hostname)) return realFetch(input, init);
    const headers = new Headers(init.headers);
    headers.delete('host');
    headers.set('x-forwarded-host', url.host);
    return realFetch(new URL(url.pathname + url.search, apiUrl), { ...init, headers });
  };
}

let handler;
let loadError;
try {
  const mod = require(path.join(codeDir, file));
  handler = mod[exportName];
  if (typeof handler !== 'function')
    throw Object.assign(new Error(`${file}.${exportName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
} catch (e) {
  loadError = {
    errorType: e.name === 'Runtime.HandlerNotFound' ? e.name : 'Runtime.ImportModuleError',
    errorMessage: `${e.name}: ${e.message}`,
  };
}

process.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  if (loadError) return process.send({ type: 'done', id: msg.id, error: loadError });
  const deadline = msg.deadline;
  const context = {
    awsRequestId: msg.requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: msg.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'harness',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const value = await handler(JSON.parse(msg.event), context);
    process.send({ type: 'done', id: msg.id, payload: value === undefined ? 'null' : JSON.stringify(value) });
  } catch (e) {
    const error =
      e instanceof Error
        ? { errorType: e.name, errorMessage: e.message, trace: String(e.stack).split('\n') }
        : { errorType: 'Error', errorMessage: String(e) };
    process.send({ type: 'done', id: msg.id, error });
  }
});
process.on('unhandledRejection', (e) => console.error('unhandled rejection', e));
process.send({ type: 'ready' });
