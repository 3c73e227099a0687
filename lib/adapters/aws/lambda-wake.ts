/**
 * Wakes the push-consumer dispatcher with an asynchronous invocation (`InvocationType: Event`): Lambda queues
 * the event and answers 202 at once; the run starts on a free (or new) instance of the dispatcher function.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DispatcherWake } from '../../ports/dispatcher-wake';

export class LambdaDispatcherWake implements DispatcherWake {
  constructor(
    private readonly functionName: string,
    private readonly client: LambdaClient = new LambdaClient({}),
    private readonly event: Record<string, unknown> = { job: 'wake' },
  ) {}

  async wake(): Promise<void> {
    await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(this.event)) }),
    );
  }
}
