// Stands in for the `vscode` module, which only exists inside VS Code. The
// language client extends and reads many of its classes and enums while it
// loads: any name not given here is a class whose members are more of the
// same. Records the commands the extension registers.
'use strict';
function anything() {
  const f = function () {};
  return new Proxy(f, {
    get: (target, key) => (key === 'prototype' ? target.prototype : typeof key === 'symbol' ? undefined : anything()),
    construct: () => anything(),
    apply: () => anything(),
  });
}
const registered = [];
const given = {
  registered,
  workspace: {
    workspaceFolders: undefined,
    getConfiguration: () => ({ get: (_key, fallback) => fallback }),
  },
  commands: { registerCommand: (id) => (registered.push(id), { dispose() {} }) },
};
module.exports = new Proxy(given, { get: (target, key) => (key in target ? target[key] : typeof key === 'symbol' ? undefined : anything()) });
