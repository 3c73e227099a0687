import type { Payload } from '../../lib/core/model';

export const jsonPayload = (v: unknown): Payload => ({ encoding: 'json', bytes: Buffer.from(JSON.stringify(v)) });
