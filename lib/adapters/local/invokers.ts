/**
 * Local invokers for push consumers: a handler module (a file exporting `handler(event)`) or a webhook
 * (the event as a JSON POST). Success is a normal return / a 2xx; `{batchItemFailures: [{itemIdentifier}]}`
 * marks failed records; a throw / non-2xx fails the batch.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvokeUnavailableError, toInvokeResult, type ConsumerEvent, type InvokeResult, type Invoker } from '../../ports/invoker';

type Handler = (event: ConsumerEvent) => unknown;

// Real dynamic import (not rewritten to require by a CommonJS build): loads .mjs handlers.
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

export class ModuleInvoker implements Invoker {
  private readonly handlers = new Map<string, Promise<Handler>>();

  /** @param baseDir handler paths are relative to it (the config file's directory). */
  constructor(private readonly baseDir: string) {}

  private load(target: string): Promise<Handler> {
    let h = this.handlers.get(target);
    if (!h) {
      const file = path.resolve(this.baseDir, target);
      h = (async () => {
        if (!existsSync(file)) throw new Error(`handler ${target}: no such file ${file}`);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = file.endsWith('.mjs') ? await importModule(pathToFileURL(file).href) : (require(file) as Record<string, unknown>);
        const fn = (mod.handler ?? (mod.default as Record<string, unknown> | undefined)?.handler) as Handler | undefined;
        if (typeof fn !== 'function') throw new Error(`${target} does not export a handler(event) function`);
        return fn;
      })();
      this.handlers.set(target, h);
      h.catch(() => this.handlers.delete(target));
    }
    return h;
  }

  /** Loads the module now (once): a missing file or a module without `handler` fails at start, not per batch. */
  async check(target: string): Promise<void> {
    await this.load(target);
  }

  async invoke(target: string, event: ConsumerEvent): Promise<InvokeResult> {
    const handler = await this.load(target);
    return toInvokeResult(await handler(event));
  }
}

export class WebhookInvoker implements Invoker {
  constructor(private readonly timeoutMs = 30_000) {}

  /**
   * A 429 or 503 (the webhook's own throttle or "try later", Retry-After honoured) and a connection that could
   * not be made are not the handler's failures: retried without counting toward `maxRetries`.
   */
  async invoke(url: string, event: ConsumerEvent): Promise<InvokeResult> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const code = ((e as Error).cause as { code?: string } | undefined)?.code;
      if (code && CONNECT_ERRORS.has(code))
        throw new InvokeUnavailableError(`webhook ${url} unreachable (${code})`, undefined, { cause: e });
      throw e;
    }
    const text = await res.text();
    if (res.status === 429 || res.status === 503) {
      const after = Number(res.headers.get('retry-after'));
      throw new InvokeUnavailableError(
        `webhook answered ${res.status}: ${text.slice(0, 200)}`,
        Number.isFinite(after) && after > 0 ? Math.min(after, 300) * 1000 : undefined,
      );
    }
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered ${res.status}: ${text.slice(0, 200)}`);
    let answer: unknown;
    try {
      answer = text ? JSON.parse(text) : undefined;
    } catch {
      answer = undefined; // a 2xx with a non-JSON body is plain success
    }
    return toInvokeResult(answer);
  }
}

/** Connection errors that mean the request was never received. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Webhook for http(s) URLs, handler module otherwise. */
export class LocalInvoker implements Invoker {
  private readonly modules: ModuleInvoker;
  private readonly webhooks = new WebhookInvoker();
  constructor(baseDir: string) {
    this.modules = new ModuleInvoker(baseDir);
  }
  invoke(target: string, event: ConsumerEvent): Promise<InvokeResult> {
    return isWebhook(target) ? this.webhooks.invoke(target, event) : this.modules.invoke(target, event);
  }

  async check(target: string): Promise<void> {
    if (isWebhook(target)) {
      if (!URL.canParse(target)) throw new Error(`handler ${target} is not a valid URL`);
      return;
    }
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target);
    if (scheme) throw new Error(`handler ${target}: only http:// and https:// webhooks are supported (or a module path)`);
    await this.modules.check(target);
  }
}

const isWebhook = (target: string) => /^https?:\/\//i.test(target);
