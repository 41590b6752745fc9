// Compares two replay.md results (e.g. the engine's and the hand-written
// evaluator's) the way `--expect` does: members and errors, key order
// ignored, error messages compared by line number only.
//
//   node --import tsx bench/compare.ts A.json B.json [--max 20]
//
// Exit status 0 when equal, 1 when not.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Entry {
  at: string;
  kind: string;
  points: number;
  rule: string | null;
  ref: string | null;
}
interface MemberResult {
  balance: number;
  tier: string | null;
  clubs: string[];
  ledger: Entry[];
}
export interface Result {
  members: Record<string, MemberResult>;
  errors: { line: number; message: string }[];
}

function entryText(e: Entry | undefined): string {
  if (!e) return '(none)';
  return `${e.at} ${e.kind} ${e.points} ${e.rule ?? '-'} ${e.ref ?? '-'}`;
}

/** Human-readable differences, at most `max` of them (plus a count line). */
export function diffResults(a: Result, b: Result, max = 20): string[] {
  const out: string[] = [];
  let count = 0;
  const add = (s: string) => {
    count++;
    if (out.length < max) out.push(s);
  };
  const ids = new Set([...Object.keys(a.members), ...Object.keys(b.members)]);
  for (const id of ids) {
    const x = a.members[id];
    const y = b.members[id];
    if (!x || !y) {
      add(`member ${id}: ${x ? 'only in A' : 'only in B'}`);
      continue;
    }
    if (x.balance !== y.balance) add(`member ${id}: balance ${x.balance} vs ${y.balance}`);
    if (x.tier !== y.tier) add(`member ${id}: tier ${x.tier} vs ${y.tier}`);
    if (JSON.stringify(x.clubs) !== JSON.stringify(y.clubs)) add(`member ${id}: clubs ${JSON.stringify(x.clubs)} vs ${JSON.stringify(y.clubs)}`);
    const n = Math.max(x.ledger.length, y.ledger.length);
    for (let i = 0; i < n; i++) {
      const e = x.ledger[i];
      const f = y.ledger[i];
      if (entryText(e) !== entryText(f)) {
        add(`member ${id}: ledger[${i}] ${entryText(e)}  vs  ${entryText(f)}`);
        break; // the rest of this ledger is usually shifted
      }
    }
  }
  const ea = new Map(a.errors.map((e) => [e.line, e.message]));
  const eb = new Map(b.errors.map((e) => [e.line, e.message]));
  for (const [line, m] of ea) if (!eb.has(line)) add(`error on line ${line} only in A: ${m}`);
  for (const [line, m] of eb) if (!ea.has(line)) add(`error on line ${line} only in B: ${m}`);
  if (count > out.length) out.push(`... ${count - out.length} more differences`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const mi = args.indexOf('--max');
  const max = mi >= 0 ? Number(args[mi + 1]) : 20;
  const files = args.filter((a, i) => !a.startsWith('--') && !(mi >= 0 && i === mi + 1));
  if (files.length !== 2) {
    process.stderr.write('usage: node --import tsx bench/compare.ts A.json B.json [--max N]\n');
    process.exit(2);
  }
  const [a, b] = files.map((f) => JSON.parse(readFileSync(f!, 'utf8')) as Result) as [Result, Result];
  const d = diffResults(a, b, max);
  const entries = (r: Result) => Object.values(r.members).reduce((s, m) => s + m.ledger.length, 0);
  if (d.length === 0) {
    process.stdout.write(`equal: ${Object.keys(a.members).length} members, ${entries(a)} ledger entries, ${a.errors.length} errors\n`);
    process.exit(0);
  }
  process.stdout.write(d.join('\n') + '\n');
  process.exit(1);
}
