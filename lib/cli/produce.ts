/** `ferry produce <topic>`: one record per line of stdin or --file (a progress bar for files). */
import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { createReadStream, promises as fs } from 'node:fs';
import * as readline from 'node:readline';
import type { Message } from '../client';
import { clientFor, printJson, wholeNumber, withCommon, type CommonOptions } from './common';

interface ProduceOptions extends CommonOptions {
  file?: string;
  key?: string;
  keySeparator?: string;
  header: string[];
  deliverAfter?: number;
  partition?: number;
  parseJson?: boolean;
  progress?: boolean;
}

const CHUNK = 1000;
const IN_FLIGHT = 4;

export function registerProduce(program: Command): void {
  withCommon(program.command('produce <topic>').description('send each line of stdin (or --file) as one record'))
    .option('-f, --file <path>', 'read lines from this file instead of stdin')
    .option('-k, --key <key>', 'key of every record (default: none, spread over partitions)')
    .option('-p, --partition <n>', 'send every record to this partition', wholeNumber('partition'))
    .option('-K, --key-separator <sep>', 'each line is <key><sep><value> (as kcat -K); lines without it have no key')
    .option('-H, --header <name=value>', 'a header on every record (repeatable)', collectHeader, [])
    .option(
      '--deliver-after <ms>',
      'delayed delivery: each record becomes visible this many milliseconds later',
      wholeNumber('deliver-after', 1),
    )
    .option('--parse-json', 'each line (the value part with -K) is a JSON value (default: the line as a string)')
    .option('--no-progress', 'no progress bar for --file')
    .action(async (topic: string, o: ProduceOptions) => {
      const producer = clientFor(o).producer({ lingerMs: 10 });
      const size = o.file
        ? await fs.stat(o.file).then(
            (st) => st.size,
            (e: NodeJS.ErrnoException) => {
              throw new Error(`cannot read ${o.file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
            },
          )
        : 0;
      const input = o.file ? createReadStream(o.file) : process.stdin;
      const bar =
        o.file && o.progress !== false && process.stderr.isTTY !== false && !o.json
          ? new SingleBar({ format: 'producing [{bar}] {percentage}% | {records} records', stream: process.stderr }, Presets.shades_classic)
          : undefined;
      bar?.start(size, 0, { records: 0 });
      const lines = readline.createInterface({ input, crlfDelay: Infinity });
      const byPartition = new Map<number, number>();
      let sent = 0;
      let lineNo = 0;
      let chunk: Message[] = [];
      const inFlight = new Set<Promise<void>>();
      let failure: unknown;
      const flush = async () => {
        const messages = chunk;
        chunk = [];
        if (!messages.length) return;
        const p = producer.send({ topic, messages }).then(
          (meta) => {
            for (const m of meta) byPartition.set(m.partition, (byPartition.get(m.partition) ?? 0) + 1);
            sent += meta.length;
            bar?.update(Math.min(size, (input as { bytesRead?: number }).bytesRead ?? 0), { records: sent });
          },
          (e) => {
            failure ??= e;
          },
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      };
      for await (const line of lines) {
        lineNo++;
        if (failure) break;
        chunk.push(messageOf(line, lineNo, o));
        if (chunk.length >= CHUNK) await flush();
      }
      await flush();
      await Promise.all(inFlight);
      await producer.disconnect();
      bar?.update(size, { records: sent });
      bar?.stop();
      if (failure) throw failure;
      const partitions = Object.fromEntries([...byPartition].sort(([a], [b]) => a - b));
      if (o.json) printJson({ topic, records: sent, partitions });
      else console.error(`produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}`);
    });
}

/** `-H name=value`, collected into [name, value] pairs. */
function collectHeader(v: string, all: string[]): string[] {
  if (!/^[^=]+=/.test(v)) throw new InvalidArgumentError(`--header takes name=value (got ${JSON.stringify(v)})`);
  return [...all, v];
}

/** One input line → one message: key (from --key or the -K separator), value (a string, or JSON), headers, delay. */
function messageOf(line: string, lineNo: number, o: ProduceOptions): Message {
  let key: unknown = o.key;
  let text = line;
  if (o.keySeparator !== undefined) {
    const at = line.indexOf(o.keySeparator);
    if (at !== -1) {
      key = line.slice(0, at);
      text = line.slice(at + o.keySeparator.length);
    }
  }
  let value: unknown = text;
  if (o.parseJson) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`line ${lineNo} is not JSON (drop --parse-json to send lines as strings)`);
    }
  }
  const headers = Object.fromEntries(o.header.map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]));
  return {
    value,
    ...(key !== undefined && { key }),
    ...(o.partition !== undefined && { partition: o.partition }),
    ...(o.header.length && { headers }),
    ...(o.deliverAfter !== undefined && { deliverAfterMs: o.deliverAfter }),
  };
}
