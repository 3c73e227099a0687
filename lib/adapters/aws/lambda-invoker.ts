/** Invokes a consumer's Lambda function synchronously (RequestResponse) with a batch. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { FerryError } from '../../protocol/errors';
import type { ConsumerEvent, InvokeResult, Invoker } from '../../ports/invoker';
import { toInvokeResult } from '../../ports/invoker';

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
      throw new FerryError('unavailable', `cannot invoke ${functionName}: ${(e as Error).message}`, {}, { cause: e });
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
