// Regular expressions from users (LIKE/UNLIKE constraints, label selectors) run in RE2's
// linear-time engine (re2js, pure JS), so no pattern or input can stall the master.
import { RE2JS } from 're2js';

/** A compiled pattern that must match a whole string (Java's `String.matches`). */
export interface FullMatch {
  /** True when the whole of `value` matches; time linear in pattern × input. */
  test(value: string): boolean;
}

/** The result of compiling: the pattern, or RE2's syntax error (backreference, lookaround, …). */
export type CompiledRegex = { ok: true; value: FullMatch } | { ok: false; error: string };

/** Compiles `source` with RE2 semantics as a full-match pattern. */
export function compileFullMatch(source: string): CompiledRegex {
  try {
    const pattern = RE2JS.compile(source);
    return { ok: true, value: { test: (value) => pattern.matches(value) } };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/**
 * The groups of a full match of `pattern` (compiled once by the caller's module) against
 * `input`, index 0 the whole; undefined when it does not match.
 */
export function fullMatchGroups(pattern: RE2JS, input: string): string[] | undefined {
  const matcher = pattern.matcher(input);
  if (!matcher.matches()) return undefined;
  const groups: string[] = [];
  for (let i = 0; i <= matcher.groupCount(); i++) groups.push(matcher.group(i) ?? '');
  return groups;
}

export { RE2JS };
