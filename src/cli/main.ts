// `loyalty`: check, format and replay .loyalty programs; serve them to editors.
import { Command, InvalidArgumentError } from 'commander';
import { check, fmt, replay } from './commands.ts';
import { diff } from './diff.ts';

// A reader that stops early (`| head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

const date = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new InvalidArgumentError('expected a date such as 2026-12-01');
  return v;
};

const program = new Command('loyalty')
  .description('Check, format, replay and compare .loyalty loyalty programs.')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

program
  .command('check')
  .description('report errors and warnings in programs (exit 1 on errors)')
  .argument('<files...>', '.loyalty files')
  .option('--json', 'print the diagnostics as JSON on stdout')
  .option('--as-of <date>', 'warn about rules that cannot apply after this date (default: today)', date)
  .action((files: string[], o: { json?: boolean; asOf?: string }) => {
    process.exitCode = check(files, o);
  });

program
  .command('fmt')
  .description('format programs in the canonical layout (to stdout by default)')
  .argument('<files...>', '.loyalty files')
  .option('--check', 'exit 1 if a file is not formatted, writing nothing')
  .option('--write', 'rewrite the files in place')
  .action((files: string[], o: { check?: boolean; write?: boolean }) => {
    process.exitCode = fmt(files, o);
  });

program
  .command('replay')
  .description('replay a program over a JSONL event stream (replay.md)')
  .argument('<program>', 'the .loyalty program')
  .argument('<events>', 'events, one JSON object a line ("-" for stdin)')
  .option('--json', 'print the result as JSON on stdout')
  .option('--expect <file>', 'compare the result with this JSON file (exit 1 when they differ)')
  .option('--explain', 'print every ledger entry with the program line that produced it')
  .option('--no-progress', 'never show a progress bar')
  .option('--notifications', 'print the notifications the stream produces, one JSON object a line (docs/webhooks.md)')
  .option('--reminder-days <days>', 'with --notifications: how many days ahead reminders are made (default 7)', Number)
  .action(async (prog: string, events: string, o: { json?: boolean; expect?: string; explain?: boolean; progress?: boolean; notifications?: boolean; reminderDays?: number }) => {
    process.exitCode = await replay(prog, events, {
      json: o.json,
      expect: o.expect,
      explain: o.explain,
      progress: o.progress === false ? false : undefined,
      notifications: o.notifications,
      reminderDays: o.reminderDays,
    });
  });

program
  .command('diff')
  .description('backtest a program change: replay the events under both programs and compare (exit 2 on bad input)')
  .argument('<old>', 'the program in use (.loyalty)')
  .argument('<new>', 'the changed program (.loyalty)')
  .argument('<events>', 'events, one JSON object a line ("-" for stdin)')
  .option('--from <date>', 'the new program applies from this date (00:00 in its timezone) or instant; before it, both sides replay the old one')
  .option('--json', 'print the comparison as JSON on stdout')
  .action(async (before: string, after: string, events: string, o: { json?: boolean; from?: string }) => {
    process.exitCode = await diff(before, after, events, o);
  });

program
  .command('lsp')
  .description('run the language server for editors (Language Server Protocol; see editors/vscode)')
  .option('--stdio', 'speak the protocol over standard input and output (the one transport)')
  .action(async (o: { stdio?: boolean }) => {
    if (!o.stdio) {
      process.stderr.write('error: loyalty lsp speaks over standard input and output only: run `loyalty lsp --stdio`\n');
      process.exitCode = 2;
      return;
    }
    // Loaded here so that the other commands never evaluate the server.
    const { startServer } = await import('../lsp/server.ts');
    startServer();
  });

program.exitOverride((err) => {
  process.exit(err.exitCode === 1 && err.code !== 'commander.help' && err.code !== 'commander.helpDisplayed' && err.code !== 'commander.version' ? 2 : err.exitCode);
});

await program.parseAsync(process.argv);
