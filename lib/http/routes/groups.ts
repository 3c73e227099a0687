/** Consumer group routes of HTTP API v1: join, heartbeat, leave, commit, committed offsets, describe, list, seek. */
import type { z } from 'zod';
import { invalid } from '../../protocol/errors';
import type { GroupDescription, MemberView, SeekTarget } from '../../core/groups/types';
import type { GroupInfo, MemberAnswer } from '../../protocol/v1';
import { validateGroupId } from '../../core/storage/keys';
import { commitSchema, joinSchema, memberFetchSchema, seekSchema } from '../group-schemas';
import { memberFetchJson } from '../fetch-answer';
import { parseCount } from '../wire';
import { parseWith } from '../schemas';
import { parseIsoTime, parseOffset } from '../wire';
import { TokenAuth } from '../auth';
import { jsonText, type Handlers, type RouteDeps, type RouteModule } from './common';

const memberJson = (v: MemberView): MemberAnswer => ({ memberId: v.memberId, generation: v.generation, assignments: v.assignments });

function describeJson(d: GroupDescription): GroupInfo {
  return {
    groupId: d.groupId,
    generation: d.generation,
    state: d.state,
    members: d.members.map((m) => ({
      memberId: m.memberId,
      topics: m.topics,
      sessionTimeoutMs: m.sessionTimeoutMs,
      joinedAt: new Date(m.joinedAt).toISOString(),
      lastHeartbeat: new Date(m.heartbeatAt).toISOString(),
      assignments: m.assignments,
    })),
    offsets: d.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      committedOffset: o.committedOffset === null ? null : o.committedOffset.toString(),
      logStartOffset: o.logStartOffset.toString(),
      highWatermark: o.highWatermark.toString(),
      lag: o.lag.toString(),
      lagSeconds: Math.round(o.lagSeconds * 1000) / 1000,
      owner: o.owner,
    })),
    totalLag: d.totalLag.toString(),
    maxLagSeconds: Math.round(Math.max(0, ...d.offsets.map((o) => o.lagSeconds)) * 1000) / 1000,
  };
}

/** A seek body's `to` (as parsed by its schema) → the core's target. */
export function seekTarget(to: z.infer<typeof seekSchema>['to']): SeekTarget {
  if (typeof to === 'string') return to;
  return 'offset' in to ? { offset: parseOffset(to.offset, 'to.offset') } : { timestamp: parseTimestamp(to.timestamp) };
}

/** A timestamp: epoch milliseconds or an ISO-8601 string (as `deliverAt`). */
function parseTimestamp(raw: number | string): number {
  if (typeof raw === 'number') return raw;
  const ms = parseIsoTime(raw);
  if (!Number.isFinite(ms)) {
    throw invalid(
      `to.timestamp must be epoch milliseconds or an ISO-8601 time with a zone, like 2024-05-01T12:00:00Z (got ${JSON.stringify(raw.slice(0, 64))})`,
    );
  }
  return ms;
}

export const groupRoutes: RouteModule = {
  handlers: (deps) => ({ ...membershipHandlers(deps), ...offsetHandlers(deps) }),
};

/** List, describe and delete groups; join, heartbeat and leave. */
function membershipHandlers({ log, body, noQuery }: RouteDeps): Handlers {
  const group = (c: { req: { param(name: string): string } }) => validateGroupId(c.req.param('group'));
  return {
    'GET /v1/groups': async (c) => {
      noQuery(c);
      return c.json({ groups: await log.groups.list() });
    },
    'GET /v1/groups/:group': async (c) => {
      const g = group(c);
      noQuery(c);
      return c.json(describeJson(await log.groups.describe(g)));
    },
    // Kafka's DeleteGroups: only an empty group (409 while a member's session is live), with its offsets.
    'DELETE /v1/groups/:group': async (c) => {
      const g = group(c);
      noQuery(c);
      await log.groups.delete(g);
      return c.body(null, 204);
    },
    'POST /v1/groups/:group/members': async (c) => {
      const g = group(c);
      noQuery(c);
      const input = parseWith(joinSchema, await body(c));
      for (const t of input.topics) TokenAuth.check(c.get('grant' as never), 'consume', t);
      return c.json(memberJson(await log.groups.join(g, input)));
    },
    'POST /v1/groups/:group/members/:member/heartbeat': async (c) => {
      const g = group(c);
      noQuery(c);
      return c.json(memberJson(await log.groups.heartbeat(g, c.req.param('member')!)));
    },
    'DELETE /v1/groups/:group/members/:member': async (c) => {
      const g = group(c);
      noQuery(c);
      return c.json(memberJson(await log.groups.leave(g, c.req.param('member')!)));
    },
  };
}

/** Committed offsets (Kafka's OffsetFetch / OffsetCommit) and seek. */
function offsetHandlers({ log, body, noQuery, query }: RouteDeps): Handlers {
  const group = (c: { req: { param(name: string): string } }) => validateGroupId(c.req.param('group'));
  return {
    // Kafka's OffsetFetch: committed offsets only (no object read, no lag) — what a consumer starts from.
    'GET /v1/groups/:group/offsets': async (c) => {
      const g = group(c);
      const { topic } = query(c, ['topic']);
      const grant = c.get('grant' as never);
      if (topic !== undefined) TokenAuth.check(grant, 'consume', topic);
      // Without ?topic=, a topic-scoped token sees the offsets of its own topics only.
      const offsets = (await log.groups.fetchOffsets(g, topic)).filter((o) => TokenAuth.allows(grant, 'consume', o.topic));
      const json = offsets.map((o) => `{"topic":${JSON.stringify(o.topic)},"partition":${o.partition},"offset":"${o.offset}"}`).join(',');
      return jsonText(`{"groupId":${JSON.stringify(g)},"offsets":[${json}]}`);
    },
    'POST /v1/groups/:group/offsets': async (c) => {
      const g = group(c);
      noQuery(c);
      const input = parseWith(commitSchema, await body(c));
      for (const o of input.offsets) TokenAuth.check(c.get('grant' as never), 'consume', o.topic);
      const offsets = input.offsets.map((o, i) => ({
        topic: o.topic,
        partition: o.partition,
        offset: parseOffset(o.offset, `offsets[${i}].offset`),
      }));
      const done = await log.groups.commit(g, { memberId: input.memberId, generation: input.generation, offsets });
      return c.json({ offsets: done.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })) });
    },
    'POST /v1/groups/:group/members/:member/fetch': async (c) => {
      const g = group(c);
      noQuery(c);
      const input = parseWith(memberFetchSchema, await body(c));
      const { limits } = log.ctx.settings;
      const count = (v: number | undefined, field: string, min: number, max: number, dflt: number) =>
        parseCount(v === undefined ? undefined : String(v), field, min, max, dflt);
      const positions = input.positions?.map((p, i) => {
        TokenAuth.check(c.get('grant' as never), 'consume', p.topic);
        return {
          topic: p.topic,
          partition: p.partition,
          offset: p.offset === undefined ? undefined : parseOffset(p.offset, `positions[${i}].offset`),
        };
      });
      const res = await log.groups.fetch(g, c.req.param('member')!, {
        positions,
        maxRecords: count(input.maxRecords, 'maxRecords', 1, limits.maxFetchRecords, Math.min(1000, limits.maxFetchRecords)),
        maxBytes: count(input.maxBytes, 'maxBytes', 1, limits.maxFetchBytes, Math.min(1024 * 1024, limits.maxFetchBytes)),
        waitMs: count(input.waitMs, 'waitMs', 0, limits.maxWaitMs, 0),
      });
      for (const a of res.assignments) TokenAuth.check(c.get('grant' as never), 'consume', a.topic);
      return jsonText(memberFetchJson(res, limits.maxResponseBytes));
    },
    'POST /v1/groups/:group/seek': async (c) => {
      const g = group(c);
      noQuery(c);
      const input = parseWith(seekSchema, await body(c));
      TokenAuth.check(c.get('grant' as never), 'consume', input.topic);
      const res = await log.groups.seek(g, { topic: input.topic, partition: input.partition, to: seekTarget(input.to) });
      return c.json({
        generation: res.generation,
        offsets: res.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
      });
    },
  };
}
