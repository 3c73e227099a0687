/**
 * Ferry's typed client: producer (batching, safe retries), group consumer (heartbeats on their own timer,
 * commit after success, clean leave), admin. Names follow kafkajs so its users feel at home.
 *
 * @example
 *   import { FerryClient } from 'ferry';
 *   const client = new FerryClient({ url: 'http://127.0.0.1:8080' });
 *   await client.producer().send({ topic: 'orders', messages: [{ key: 'u1', value: { id: 1 } }] });
 */
import { Admin } from './admin';
import { Consumer } from './consumer';
import type { ConsumerConfig } from './consumer-config';
import { Transport, type RetryOptions } from './http';
import { readPartition, type PartitionPage, type ReadOptions } from './partition-reader';
import { Producer, type ProducerConfig } from './producer';

export interface FerryClientConfig {
  /** Where the HTTP API answers, e.g. `http://127.0.0.1:8080` or the API Gateway URL. */
  url: string;
  /** Bearer token for an embedded server with tokens. */
  token?: string;
  retry?: RetryOptions;
  requestTimeoutMs?: number;
}

export class FerryClient {
  readonly transport: Transport;

  constructor(config: FerryClientConfig) {
    this.transport = new Transport(config);
  }

  producer(config?: ProducerConfig): Producer {
    return new Producer(this.transport, config);
  }

  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.transport, config);
  }

  admin(): Admin {
    return new Admin(this.transport);
  }

  /** One page of a partition from an offset, without a consumer group (partition-reader.ts). */
  read(topic: string, partition: number, options?: ReadOptions): Promise<PartitionPage> {
    return readPartition(this.transport, topic, partition, options);
  }
}

export { Admin, Consumer, Producer, Transport };
export { FerryError } from '../protocol/errors';
export { retriable } from './http';
export type { ConsumerConfig, RunConfig, SubscribeConfig } from './consumer-config';
export type { ProducerConfig } from './producer';
export type { PartitionPage, ReadOptions } from './partition-reader';
export type { PartitionSelection } from './partition-controls';
export type { RetryOptions } from './http';
export type { PushConsumerDescription, PushConsumerInfo } from '../protocol/v1';
export type * from './types';
