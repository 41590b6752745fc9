// The real server process (`npm start`'s command) for tests over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  url: string;
  apiKey: string | null;
  output: () => string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts `node --import tsx src/server/server.ts` and waits for its GraphiQL line. */
export async function startServer(env: Record<string, string>): Promise<Running> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/GraphiQL: (\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: /GraphiQL: (\S+)/.exec(out)![1]!,
    apiKey: /^API key: (\S+)$/m.exec(out)?.[1] ?? null,
    output: () => out,
    child,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

