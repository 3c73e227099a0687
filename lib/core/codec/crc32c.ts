/**
 * CRC32C (Castagnoli), from a kept library: the SIMD native one where its prebuilt binary exists for this
 * platform, else the pure-JS one the AWS SDK itself uses (e.g. inside a Lambda bundle).
 */
import { crc32c as jsCrc32c } from '@aws-crypto/crc32c';

type Crc = (data: Uint8Array) => number;

function load(): Crc {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const native = require('@node-rs/crc32') as { crc32c: (input: Uint8Array | string, initial?: number) => number };
    if (native.crc32c(Buffer.from('123456789')) === 0xe3069283) return (d) => native.crc32c(d) >>> 0;
  } catch {
    // no native binary for this platform: use the portable one
  }
  return (d) => jsCrc32c(d) >>> 0;
}

export const crc32c: Crc = load();
