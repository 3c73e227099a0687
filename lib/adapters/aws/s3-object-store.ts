/**
 * An object store on one S3 bucket (one failure domain). Objects are created with a conditional PUT
 * (`If-None-Match: *`), so S3 itself refuses to overwrite an existing key: two writers racing on one key
 * get one 200 and one 412, and the loser's bytes never land.
 *
 * @example
 *   const store = new S3ObjectStore({ name: 's0', bucket: 'my-ferry-segments-a', client: new S3Client({}) });
 *   await store.putIfAbsent('topics/0001/0002.seg', bytes);
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ByteRange, ListPage, ObjectStore } from '../../ports/object-store';
import { attemptsOf, errorName, sdkFailure } from './errors';

export interface S3ObjectStoreOptions {
  /** The store's stable name, recorded in index entries as a replica (`s0`, `s1`, …). */
  name: string;
  bucket: string;
  /** Default: a client configured from the environment (AWS_REGION, AWS_ENDPOINT_URL_S3, credentials). */
  client?: S3Client;
  /** Prepended to every key, so several Ferry clusters (or tests) can share a bucket. Default: none. */
  keyPrefix?: string;
}

/** S3 answers 409 when another conditional write to the same key is in flight; it settles quickly. */
const CONFLICT_ATTEMPTS = 5;

export class S3ObjectStore implements ObjectStore {
  readonly name: string;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly keyPrefix: string;

  constructor(options: S3ObjectStoreOptions) {
    this.name = options.name;
    this.bucket = options.bucket;
    this.client = options.client ?? new S3Client({});
    this.keyPrefix = options.keyPrefix ?? '';
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<{ created: boolean }> {
    const Key = this.keyPrefix + key;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, IfNoneMatch: '*' }));
        return { created: true };
      } catch (e) {
        if (isStatus(e, 412, 'PreconditionFailed')) {
          // After an SDK retry the 412 may be our own first attempt, which landed: then the key holds our bytes.
          if (attemptsOf(e) > 1 && (await this.holds(key, body))) return { created: true };
          return { created: false };
        }
        if (errorName(e) === 'ConditionalRequestConflict' && attempt < CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 20));
          continue;
        }
        throw sdkFailure(`S3 bucket ${this.bucket}`, `put ${Key}`, e);
      }
    }
  }

  private async holds(key: string, body: Uint8Array): Promise<boolean> {
    const stored = await this.get(key);
    return stored !== undefined && Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(body);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const Key = this.keyPrefix + key;
    if (range && range.length === 0) return new Uint8Array(0);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          Range: range ? `bytes=${range.start}-${range.start + range.length - 1}` : undefined,
        }),
      );
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    } catch (e) {
      if (isMissingKey(e)) return undefined;
      // A range starting past the end: as a short read locally, no bytes.
      if (range && isStatus(e, 416, 'InvalidRange')) return new Uint8Array(0);
      throw sdkFailure(`S3 bucket ${this.bucket}`, `get ${Key}`, e);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.keyPrefix + key;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (isMissingKey(e)) return;
      throw sdkFailure(`S3 bucket ${this.bucket}`, `delete ${Key}`, e);
    }
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = Math.min(options.limit ?? 1000, 1000);
    try {
      // StartAfter, not a continuation token: the port's `next` is a key, so a page can resume anywhere.
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.keyPrefix + prefix,
          StartAfter: options.startAfter === undefined ? undefined : this.keyPrefix + options.startAfter,
          MaxKeys: limit,
        }),
      );
      const objects = (res.Contents ?? []).map((o) => ({ key: o.Key!.slice(this.keyPrefix.length), size: o.Size ?? 0 }));
      return { objects, next: res.IsTruncated && objects.length ? objects[objects.length - 1].key : undefined };
    } catch (e) {
      throw sdkFailure(`S3 bucket ${this.bucket}`, `list ${this.keyPrefix + prefix}`, e);
    }
  }
}

function isStatus(e: unknown, status: number, name: string): boolean {
  return errorName(e) === name || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === status;
}

/** A 404 for the key, not for the bucket (a missing bucket is a deployment error, never "no object"). */
function isMissingKey(e: unknown): boolean {
  const name = errorName(e);
  return name === 'NoSuchKey' || (isStatus(e, 404, 'NotFound') && name !== 'NoSuchBucket');
}
