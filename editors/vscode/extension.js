// @ts-check
// The VS Code extension: starts `loyalty lsp --stdio` with
// vscode-languageclient for .loyalty files. Everything the editor shows
// (diagnostics, formatting, completion, hover, definitions, outline,
// semantic colours) comes from the server; the TextMate grammar colours the
// text before it answers.
'use strict';
const { existsSync, realpathSync } = require('node:fs');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const { serverCommand } = require('./server.js');

/** @type {LanguageClient | undefined} */
let client;

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  const settings = vscode.workspace.getConfiguration('loyalty');
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const run = serverCommand({ path: settings.get('server.path', ''), node: settings.get('server.node', 'node') }, folders, realpathSync(context.extensionPath), existsSync);
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const server = { command: run.command, args: run.args, options: folders[0] ? { cwd: folders[0] } : {} };
  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const options = { documentSelector: [{ language: 'loyalty' }] };
  client = new LanguageClient('loyalty', 'Loyalty', server, options);
  context.subscriptions.push(vscode.commands.registerCommand('loyalty.restartServer', () => client?.restart()));
  await client.start();
}

function deactivate() {
  return client?.stop();
}

module.exports = { activate, deactivate };
