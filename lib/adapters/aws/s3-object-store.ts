/**
 * An object store on one S3 bucket (one failure domain). Objects are created with a conditional PUT
 * (`If-None-Match: *`), so S3 itself refuses to overwrite an existing key: two writers racing on one key
 * get one 200 and one 412, and the loser's bytes never land.
 *
 * @example
 *   const store = new S3ObjectStore({ name: 's0', bucket: 'my-ferry-segments-a', client: new S3Client({}) });
 *   await store.putIfAbsent('topics/0001/0002.seg', bytes);
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
  /**
   * An S3 Express One Zone directory bucket, which lists without `StartAfter`. Default: from the name
   * (`name--azid--x-s3`).
   */
  directoryBucket?: boolean;
}

/** Continuation tokens kept for the pages a caller may ask for next (one per list in progress, in practice). */
const KEPT_TOKENS = 64;

/** S3 answers 409 when another conditional write to the same key is in flight; it settles quickly. */
const CONFLICT_ATTEMPTS = 5;

export class S3ObjectStore implements ObjectStore {
  readonly name: string;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly keyPrefix: string;
  private readonly directoryBucket: boolean;
  /** `prefix \0 last key of a page` → the continuation token of the page after it. */
  private readonly tokens = new Map<string, string>();

  constructor(options: S3ObjectStoreOptions) {
    this.name = options.name;
    this.bucket = options.bucket;
    this.client = options.client ?? new S3Client({});
    this.keyPrefix = options.keyPrefix ?? '';
    this.directoryBucket = options.directoryBucket ?? options.bucket.endsWith('--x-s3');
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

  /**
   * Pages with `ContinuationToken`, which every bucket type supports (directory buckets refuse `StartAfter`).
   * The port resumes after a key: the token of the page that ended with that key is kept, so paging through
   * `next` costs one request per page. Resuming after a key this instance did not hand out starts over and
   * skips up to it on a directory bucket; a general purpose bucket takes `StartAfter` for that.
   */
  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = Math.min(options.limit ?? 1000, 1000);
    const Prefix = this.keyPrefix + prefix;
    const after = options.startAfter;
    let token = after === undefined ? undefined : this.tokens.get(`${prefix}\0${after}`);
    const startAfter = after !== undefined && token === undefined && !this.directoryBucket ? this.keyPrefix + after : undefined;
    // Starting over on a directory bucket: skip the keys up to `after`.
    const skipping = after !== undefined && token === undefined && this.directoryBucket;
    const objects: ListPage['objects'] = [];
    try {
      for (;;) {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix,
            MaxKeys: limit,
            ContinuationToken: token,
            StartAfter: token ? undefined : startAfter,
          }),
        );
        const page = (res.Contents ?? []).map((o) => ({ key: o.Key!.slice(this.keyPrefix.length), size: o.Size ?? 0 }));
        const fresh = skipping ? page.filter((o) => o.key > after) : page;
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
        for (const o of fresh) {
          if (objects.length === limit) return { objects, next: objects[objects.length - 1].key }; // no token: the S3 page goes on
          objects.push(o);
        }
        if (!token) return { objects };
        if (objects.length > 0) {
          const next = objects[objects.length - 1].key;
          this.keepToken(`${prefix}\0${next}`, token);
          return { objects, next };
        }
        // Every key of this page was at or before `after`: read on.
      }
    } catch (e) {
      throw sdkFailure(`S3 bucket ${this.bucket}`, `list ${Prefix}`, e);
    }
  }

  private keepToken(key: string, token: string): void {
    this.tokens.delete(key);
    this.tokens.set(key, token);
    if (this.tokens.size > KEPT_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
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
