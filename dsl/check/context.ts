// What every check of dsl.md section 3 shares: where diagnostics go, and
// what the program declares (its currency, tiers, clubs, names taken),
// filled in by settings.ts and declarations.ts before the sections are
// checked.
import type * as A from '../ast.ts';
import { diagnostic, type Diagnostic } from '../diagnostics.ts';

export interface CheckOptions {
  /** `YYYY-MM-DD`: a rule whose every date range ends before it can never apply (W001). */
  asOf?: string;
}

export class CheckContext {
  readonly diagnostics: Diagnostic[] = [];

  /** The program currency as written (null without a `currency` setting). */
  currency: string | null = null;
  /** Whether that currency is a known ISO 4217 code. */
  currencyOk = false;
  hasBase = false;
  readonly programExcludes = { category: new Set<string>(), sku: new Set<string>() };
  /** The tiers section that counts (the first one). */
  tiersNode: A.TiersDecl | null = null;
  readonly tierNames = new Map<string, A.Loc>();
  readonly clubNames = new Map<string, A.Loc>();
  /** Sections and event bonuses given at most once, by key. */
  readonly once = new Map<string, A.Loc>();
  readonly ruleNames = new Map<string, A.Loc>();
  readonly eventNames = new Map<string, A.Loc>();
  readonly rewardNames = new Map<string, A.Loc>();
  readonly challengeNames = new Map<string, A.Loc>();

  constructor(
    readonly file: string,
    readonly opts: CheckOptions,
  ) {}

  /** One diagnostic at a node; its severity follows from the code (W… is a warning). */
  report(code: string, loc: A.Loc, message: string, hint?: string): void {
    this.diagnostics.push(diagnostic(code, this.file, loc.line, loc.column, message, { endLine: loc.endLine, endColumn: loc.endColumn, hint }));
  }

  /**
   * Records the name of a rule, reward or challenge (`what`) declared at `at`;
   * a second declaration of the same name is E015, pointing at the first.
   */
  declareName(names: Map<string, A.Loc>, what: string, name: { text: string; raw: string; loc: A.Loc }, at: A.Loc): void {
    const prev = names.get(name.text);
    if (prev) this.report('E015', name.loc, `${what} ${name.raw} is declared twice (first on line ${prev.line})`, `give each ${what} its own name`);
    else names.set(name.text, at);
  }

  /** The program currency when it is a known one, else USD (for examples in hints). */
  get exampleCurrency(): string {
    return this.currencyOk && this.currency ? this.currency : 'USD';
  }
}
