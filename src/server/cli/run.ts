// Runs an admin command for a CLI and prints its failure as the user needs it.
import { runAdminCommand } from '../admin/local.ts';
import { CommandFailed, type CommandName } from '../admin/commands.ts';
import { readConfig } from '../config.ts';
import { DataDirectoryLocked } from '../db/lock.ts';

/** Runs `name`, hands the result to `print`, and exits: 0 done, 1 refused or failed. */
export async function runCli(name: CommandName, args: unknown, print: (result: never) => void): Promise<never> {
  let exitCode = 0;
  try {
    const { result } = await runAdminCommand(readConfig(), name, args);
    (print as (result: unknown) => void)(result);
  } catch (error) {
    exitCode = 1;
    if (error instanceof CommandFailed) {
      for (const line of error.lines) console.error(line);
      console.error(error.message);
    } else if (error instanceof DataDirectoryLocked) {
      console.error(error.message);
    } else {
      console.error(error instanceof Error ? error.message : error);
    }
  }
  // `print` may set process.exitCode (a verify that found differences).
  process.exit(exitCode || Number(process.exitCode ?? 0));
}
