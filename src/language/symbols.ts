// Names declared in a program and the places that use them, read from the
// syntax tree by its shape rather than by a list of section kinds: any node
// with a `kind`, a `name` and a `body` declares something (rules, tiers,
// clubs, and whatever section the language grows next, such as rewards and
// challenges), and the expression nodes listed in REFERENCES use a name.
import type { Loc, ProgramAst } from '../../dsl/ast.ts';

/** An AST node as the walk sees it. */
export type AstNode = { kind: string; loc: Loc } & Record<string, unknown>;

/** A name as the tree holds it: a Word (tier names) or a Str (quoted names). */
export interface NameNode {
  text: string;
  raw?: string;
  loc: Loc;
}

export interface Declaration {
  /** The node's kind: `rule`, `tier`, `club`, `reward`, `challenge`... */
  kind: string;
  name: string;
  nameLoc: Loc;
  node: AstNode;
  /** The top-level item it is in (itself for a section). */
  section: AstNode;
}

export interface Reference {
  /** The kind of declaration it refers to. */
  kind: string;
  name: string;
  loc: Loc;
}

/** Expression nodes that use a declared name: node kind → declaration kind. */
export const REFERENCES: Readonly<Record<string, string>> = { tierName: 'tier', memberClub: 'club' };

export interface SymbolTable {
  readonly declarations: readonly Declaration[];
  readonly references: readonly Reference[];
  /** Declarations of a kind, in source order. */
  ofKind(kind: string): Declaration[];
  /** The first declaration of this kind and name (the checker reports the others). */
  lookup(kind: string, name: string): Declaration | undefined;
  referencesTo(kind: string, name: string): Reference[];
}

export function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string' && isLoc((v as { loc?: unknown }).loc);
}

function isLoc(v: unknown): v is Loc {
  return typeof v === 'object' && v !== null && typeof (v as Loc).line === 'number' && typeof (v as Loc).endColumn === 'number';
}

export function isName(v: unknown): v is NameNode {
  return typeof v === 'object' && v !== null && typeof (v as NameNode).text === 'string' && isLoc((v as NameNode).loc);
}

/** A declaration node: named, with a body of statements. */
export function declares(n: AstNode): n is AstNode & { name: NameNode; body: unknown[] } {
  return isName(n['name']) && Array.isArray(n['body']) && !(n.kind in REFERENCES);
}

/** Every node below `value`, depth first, in source order. */
export function walk(value: unknown, visit: (n: AstNode, section: AstNode) => void, section?: AstNode): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit, section);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  let inside = section;
  if (isNode(value)) {
    inside = section ?? value;
    visit(value, inside);
  }
  for (const [key, v] of Object.entries(value)) if (key !== 'loc' && typeof v === 'object') walk(v, visit, inside);
}

export function symbolTable(ast: ProgramAst): SymbolTable {
  const declarations: Declaration[] = [];
  const references: Reference[] = [];
  walk(ast.items, (n, section) => {
    const target = REFERENCES[n.kind];
    if (target !== undefined) {
      const name = n['name'];
      if (isName(name)) references.push({ kind: target, name: name.text, loc: name.loc });
    } else if (declares(n)) declarations.push({ kind: n.kind, name: n.name.text, nameLoc: n.name.loc, node: n, section });
  });
  return {
    declarations,
    references,
    ofKind: (kind) => declarations.filter((d) => d.kind === kind),
    lookup: (kind, name) => declarations.find((d) => d.kind === kind && d.name === name),
    referencesTo: (kind, name) => references.filter((r) => r.kind === kind && r.name === name),
  };
}
