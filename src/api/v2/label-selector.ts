// Marathon's label selector for `GET /v2/apps?label=` (LabelSelector.scala): `k`, `k==v`,
// `k!=v`, `k in (a,b)`, `k notin (a,b)`; a comma outside parentheses means AND. Terms are
// parsed with RE2 (linear time): a selector is user input, and a backtracking `(.+?)\s+…`
// on a long run of spaces is quadratic.
import { BadRequestError } from '../../domain/index.js';
import { RE2JS, fullMatchGroups } from '../../lib/linear-regex.js';

const SET_TERM = RE2JS.compile('(.+?)\\s+(in|notin)\\s+\\((.*)\\)');
const COMPARE_TERM = RE2JS.compile('(.+?)\\s*(==|!=)\\s*(.*)');
const EXISTS_TERM = RE2JS.compile('[^\\s=!(),]+');

type Term = (labels: Record<string, string>) => boolean;

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i] as string;
    if (ch === '\\' && i + 1 < selector.length) {
      current += ch + (selector[++i] as string);
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  terms.push(current.trim());
  return terms;
}

/** Drops the backslash of each escape, in one pass. */
function unescape(text: string): string {
  const trimmed = text.trim();
  let out = '';
  for (let i = 0; i < trimmed.length; i++) {
    const ch = trimmed[i] as string;
    if (ch === '\\' && i + 1 < trimmed.length) out += trimmed[++i] as string;
    else out += ch;
  }
  return out;
}

/** The label's own value: `toString` or `__proto__` must not find Object.prototype's. */
function labelOf(labels: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function parseTerm(term: string): Term {
  const set = fullMatchGroups(SET_TERM, term);
  if (set) {
    const key = unescape(set[1] ?? '');
    const values = (set[3] ?? '').split(',').map(unescape);
    const isIn = set[2] === 'in';
    return (labels) => {
      const value = labelOf(labels, key);
      if (value === undefined) return !isIn;
      return values.includes(value) === isIn;
    };
  }
  const compare = fullMatchGroups(COMPARE_TERM, term);
  if (compare) {
    const key = unescape(compare[1] ?? '');
    const value = unescape(compare[3] ?? '');
    return compare[2] === '=='
      ? (labels) => labelOf(labels, key) === value
      : (labels) => labelOf(labels, key) !== value;
  }
  if (EXISTS_TERM.matches(term)) {
    const key = unescape(term);
    return (labels) => Object.hasOwn(labels, key);
  }
  throw new BadRequestError(`Invalid label selector: ${term}`);
}

/** Compiles a selector into a predicate over an app's labels; a malformed one answers 400. */
export function parseLabelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms = splitTerms(selector).map(parseTerm);
  return (labels) => terms.every((term) => term(labels));
}
