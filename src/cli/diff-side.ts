// The worker thread of `loyalty diff`: replays one side of the diff over the
// events file and posts its SideResult back (diff.ts starts two, one a side,
// so the two replays run on two cores). Each line is decoded as the
// single-threaded diff decodes it, with the program in use, so both ways give
// the same result. Built by bin/loyalty.mjs beside the CLI as diff-side.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { compile } from '../../dsl/index.ts';
import { diffSides, LineDecoder } from '../engine/diff.ts';
import { forEachLineBytes } from './lines.ts';

export interface DiffSideJob {
  side: 'before' | 'after';
  before: { source: string; file: string };
  after: { source: string; file: string };
  events: string;
  from?: number;
}

const job = workerData as DiffSideJob;
const programOf = (p: { source: string; file: string }) => {
  const program = compile(p.source, p.file).program;
  if (!program) throw new Error(`${p.file} does not compile`);
  return program;
};
const before = programOf(job.before);
const after = programOf(job.after);
const side = diffSides(before, after, job.from === undefined ? {} : { from: job.from })[job.side];
const decoder = new LineDecoder(before);
forEachLineBytes(job.events, (buf, a, b, n) => {
  const d = decoder.bytes(buf, a, b);
  if (d !== null) side.push(d, n);
});
parentPort!.postMessage(side.result());
