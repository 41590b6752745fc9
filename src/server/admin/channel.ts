// The local admin channel: how CLI commands that change data (merchant:create,
// key, and later import) reach a running server that holds the embedded
// database, which no second process may open.
//
// The server listens on a loopback port of its own (never the API's
// listener, which may face a network) and writes the address and a fresh
// random secret to <data dir>/admin.json, readable only by the owner of the
// data directory (mode 0600). A CLI reads the file and sends
// `POST /v1/<command>` with `Authorization: Bearer <secret>` and the
// command's JSON arguments; the server runs admin/commands.ts and answers
// JSON. Whoever can read the data directory could open the database anyway,
// so the channel gives nobody more than they have.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PrismaClient } from '@prisma/client';
import { CommandFailed, isCommand, runCommand, type CommandName } from './commands.ts';

export const CHANNEL_FILE = 'admin.json';
const MAX_BODY = 2_000_000;

interface ChannelAddress {
  pid: number;
  url: string;
  secret: string;
}

export interface AdminChannel {
  url: string;
  stop(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new CommandFailed(`arguments over ${MAX_BODY} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startAdminChannel(
  dataDir: string,
  prisma: PrismaClient,
  onError: (error: unknown) => void = () => {},
): Promise<AdminChannel> {
  const secret = Buffer.from(randomBytes(32).toString('hex'));
  const server = createServer((request, response) => {
    const given = Buffer.from(/^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) return reply(response, 401, { error: 'bad admin secret' });
    const name = /^\/v1\/([\w.]+)$/.exec(request.url ?? '')?.[1] ?? '';
    if (request.method !== 'POST' || !isCommand(name)) return reply(response, 404, { error: `no admin command "${name}"` });
    readBody(request)
      .then((body) => runCommand(prisma, name, body ? JSON.parse(body) : {}))
      .then((result) => reply(response, 200, { result }))
      .catch((error: unknown) => {
        if (error instanceof CommandFailed || error instanceof SyntaxError) {
          reply(response, 400, { error: error.message, lines: error instanceof CommandFailed ? error.lines : [] });
        } else {
          onError(error);
          reply(response, 500, { error: 'the command failed on the server (see its log)' });
        }
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(dataDir, CHANNEL_FILE);
  const address: ChannelAddress = { pid: process.pid, url, secret: secret.toString() };
  writeFileSync(file, JSON.stringify(address), { mode: 0o600 });
  return {
    url,
    async stop() {
      rmSync(file, { force: true });
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Sends a command to the server that holds `dataDir`; CommandFailed for what it refused. */
export async function callAdminChannel(dataDir: string, name: CommandName, args: unknown): Promise<unknown> {
  let address: ChannelAddress;
  try {
    address = JSON.parse(readFileSync(join(dataDir, CHANNEL_FILE), 'utf8')) as ChannelAddress;
  } catch (error) {
    throw new CommandFailed(`a server holds ${dataDir} but its admin channel cannot be read (${(error as Error).message}); run this command as the user running the server`);
  }
  const response = await fetch(`${address.url}/v1/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${address.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  const body = (await response.json()) as { result?: unknown; error?: string; lines?: string[] };
  if (!response.ok) throw new CommandFailed(body.error ?? `admin channel answered ${response.status}`, body.lines ?? []);
  return body.result;
}
