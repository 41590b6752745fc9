// @ts-check
// Which command serves `loyalty lsp --stdio` for this window. Kept apart
// from extension.js (and from the `vscode` module) so that it can be tested
// without VS Code.
'use strict';
const path = require('node:path');

/**
 * @typedef {{ path: string, node: string }} Settings
 * @typedef {{ command: string, args: string[] }} ServerCommand
 */

/** A script is run with Node; anything else is the command itself. */
const isScript = (/** @type {string} */ file) => /\.(mjs|cjs|js)$/.test(file);

/**
 * @param {Settings} settings `loyalty.server.path` ('' to look for one) and `loyalty.server.node`
 * @param {string[]} folders the workspace folders, first first
 * @param {string} extensionDir where this extension really is (symlinks resolved)
 * @param {(file: string) => boolean} exists
 * @returns {ServerCommand}
 */
function serverCommand(settings, folders, extensionDir, exists) {
  const node = settings.node || 'node';
  const run = (/** @type {string} */ file) => (isScript(file) ? { command: node, args: [file, 'lsp', '--stdio'] } : { command: file, args: ['lsp', '--stdio'] });
  if (settings.path) {
    const configured = path.isAbsolute(settings.path) || folders.length === 0 ? settings.path : path.join(/** @type {string} */ (folders[0]), settings.path);
    return run(configured);
  }
  const candidates = [
    // A clone of the repository, or a project that depends on loyalty.
    ...folders.flatMap((f) => [path.join(f, 'bin', 'loyalty.mjs'), path.join(f, 'node_modules', '.bin', 'loyalty')]),
    // This extension inside the repository (editors/vscode), linked into VS Code.
    path.join(extensionDir, '..', '..', 'bin', 'loyalty.mjs'),
  ];
  const found = candidates.find(exists);
  return run(found ?? 'loyalty');
}

module.exports = { serverCommand };
