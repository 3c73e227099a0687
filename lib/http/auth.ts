/**
 * Bearer tokens for the embedded server: each token names the topics it may produce to, consume from and
 * administer (`*` for all, `orders*` for a prefix). Without tokens configured, every request is allowed
 * (the server binds loopback by default). On AWS, API Gateway's IAM authorizer does this job instead.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { FerryError } from '../protocol/errors';
import { matchRoute } from '../protocol/routes';

export type Right = 'produce' | 'consume' | 'admin';

export const tokensFileSchema = z.strictObject({
  tokens: z
    .array(
      z.strictObject({
        token: z.string().min(16, 'tokens must be at least 16 characters'),
        name: z.string().optional(),
        produce: z.array(z.string()).default([]),
        consume: z.array(z.string()).default([]),
        admin: z.array(z.string()).default([]),
        /** `GET /metrics` and `GET /health` (admin on every topic, `["*"]`, may too). */
        metrics: z.boolean().optional(),
      }),
    )
    .min(1),
});

export type TokensFile = z.infer<typeof tokensFileSchema>;

interface Grant {
  digest: Buffer;
  rights: Record<Right, string[]>;
  metrics: boolean;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Whether the patterns allow `topic`; without a topic (the route names it in its body: groups, producers,
 * topic creation) whether they allow any topic at all — the route then checks each topic it is given.
 */
const matches = (patterns: string[], topic: string | undefined) =>
  topic === undefined
    ? patterns.length > 0
    : patterns.some((p) => p === '*' || (p.endsWith('*') ? topic.startsWith(p.slice(0, -1)) : p === topic));

/** What a request needs: a right, on a topic when the path names one (undefined: on any topic). */
export function requirement(method: string, path: string): { right: Right | 'any' | 'metrics'; topic?: string } {
  const seg = path
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  if (seg.length === 1 && (seg[0] === 'metrics' || seg[0] === 'health')) return { right: 'metrics' };
  // A route of the table: its right, on the topic its path names.
  const matched = matchRoute(method, seg);
  if (matched) return { right: matched.route.right, topic: matched.params.topic };
  // No route matches (the answer will be 404 or 405): the right the path's neighbourhood would need, so a
  // token without it learns nothing about the paths (403 before 404), as before the table existed.
  if (seg[0] !== 'v1') return { right: 'any' };
  if (seg[1] === 'producers') return { right: 'produce' };
  if (seg[1] === 'groups') return { right: 'consume' };
  if (seg[1] !== 'topics') return { right: 'any' };
  const topic = seg[2];
  if (topic === undefined) return { right: method === 'GET' ? 'any' : 'admin' };
  if (seg[3] === 'records') return { right: 'produce', topic };
  if (seg[3] === 'partitions') return { right: 'consume', topic };
  if (seg[3] === 'scheduled') return { right: method === 'GET' ? 'consume' : 'produce', topic };
  return { right: method === 'GET' ? 'consume' : 'admin', topic };
}

export class TokenAuth {
  private readonly grants: Grant[];

  constructor(file: TokensFile) {
    this.grants = file.tokens.map((t) => ({
      digest: sha256(t.token),
      rights: { produce: t.produce, consume: t.consume, admin: t.admin },
      metrics: t.metrics === true,
    }));
  }

  private find(header: string | undefined): Grant {
    const m = header ? /^Bearer +([\x21-\x7e]+)$/i.exec(header) : null; // the scheme is case-insensitive (RFC 9110 11.1)
    if (!m) throw new FerryError('unauthorized', 'send a token: "authorization: Bearer <token>"');
    const digest = sha256(m[1]);
    const grant = this.grants.find((g) => timingSafeEqual(g.digest, digest));
    if (!grant) throw new FerryError('unauthorized', 'the token is not valid');
    return grant;
  }

  /** Hono middleware refusing requests whose token lacks the right (401 no/bad token, 403 no right). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const grant = this.find(c.req.header('authorization'));
      const need = requirement(c.req.method, new URL(c.req.url).pathname);
      const ok =
        need.right === 'any' ||
        (need.right === 'metrics' ? grant.metrics || grant.rights.admin.includes('*') : matches(grant.rights[need.right], need.topic)) ||
        // whoever may administer a topic may also read its description
        (need.right === 'consume' && need.topic !== undefined && matches(grant.rights.admin, need.topic));
      if (!ok) {
        throw new FerryError(
          'forbidden',
          need.topic ? `this token may not ${need.right} on topic "${need.topic}"` : `this token has no ${need.right} right`,
          {},
        );
      }
      c.set('grant' as never, grant as never);
      await next();
    };
  }

  /**
   * For routes whose topics are in the body (create, group join / commit / seek): may this request's token
   * do `right` on `topic`? No grant (no tokens configured): yes.
   */
  static check(grant: unknown, right: Right, topic: string): void {
    if (grant && !TokenAuth.allows(grant, right, topic)) {
      throw new FerryError('forbidden', `this token may not ${right} on topic "${topic}"`, {});
    }
  }

  /** Whether a request's grant (or no grant: no tokens configured) allows `right` on `topic`. */
  static allows(grant: unknown, right: Right, topic: string): boolean {
    if (!grant) return true;
    const rights = (grant as Grant).rights;
    return matches(rights[right], topic) || (right === 'consume' && matches(rights.admin, topic));
  }

  /** Whether a request's grant may see `topic` at all (in listings). */
  static sees(grant: unknown, topic: string): boolean {
    return (['produce', 'consume', 'admin'] as const).some((r) => TokenAuth.allows(grant, r, topic));
  }
}
