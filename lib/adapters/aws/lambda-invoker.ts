/** Invokes a consumer's Lambda function synchronously (RequestResponse) with a batch. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { FerryError } from '../../protocol/errors';
import { InvokeUnavailableError, toInvokeResult, type ConsumerEvent, type InvokeResult, type Invoker } from '../../ports/invoker';

/**
 * Invoke errors that mean the function did not run (or Lambda failed around it): retried by the dispatcher
 * without counting toward `maxRetries`, as an event source mapping retries them.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (Errors)
 */
const NOT_RUN = new Set([
  'TooManyRequestsException',
  'ServiceException',
  'ResourceNotReadyException',
  'EC2ThrottledException',
  'EC2UnexpectedException',
  'ENILimitReachedException',
  'SubnetIPAddressLimitReachedException',
  'SnapStartNotReadyException',
  'SnapStartTimeoutException',
]);

/** True for an SDK error that says the handler was not reached: a throttle, a 5xx, or no answer at all. */
export function notRun(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  if (err.name && NOT_RUN.has(err.name)) return true;
  const status = err.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  // No HTTP answer (connection refused or reset, DNS): the request never reached Lambda.
  return status === undefined && err.$fault !== 'client';
}

export class LambdaInvoker implements Invoker {
  /** Lambda's synchronous invoke takes 6 MB (6 291 456 bytes); 5 MiB leaves headroom for the SDK's framing. */
  readonly maxEventBytes = 5 * 1024 * 1024;

  constructor(private readonly client: LambdaClient = new LambdaClient({})) {}

  async invoke(functionName: string, event: ConsumerEvent): Promise<InvokeResult> {
    let out;
    try {
      out = await this.client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }),
      );
    } catch (e) {
      const message = `cannot invoke ${functionName}: ${(e as Error).name}: ${(e as Error).message}`;
      if (notRun(e)) throw new InvokeUnavailableError(message, undefined, { cause: e });
      throw new FerryError('unavailable', message, {}, { cause: e });
    }
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let answer: unknown;
    try {
      answer = text ? JSON.parse(text) : undefined;
    } catch {
      answer = undefined;
    }
    if (out.FunctionError) {
      const message = (answer as { errorMessage?: string } | undefined)?.errorMessage ?? text.slice(0, 200);
      throw new Error(`${functionName} failed (${out.FunctionError}): ${message}`);
    }
    return toInvokeResult(answer);
  }
}
