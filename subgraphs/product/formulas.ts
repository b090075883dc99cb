// Formulas over a trend's series, "A / B" or "(A - B) * 100": parsed by jsep, then evaluated
// here over numbers only, so nothing a caller writes is ever run as code.
import jsep from 'jsep';
import { badInput } from '../../lib/graphql/errors.ts';

export interface Formula {
  text: string;
  tree: jsep.Expression;
}

const BINARY = new Set(['+', '-', '*', '/']);

/** Parses `text`, naming only `letters`; a clear error for anything else. */
export function parseFormula(text: string, letters: string): Formula {
  if (text.length > 500) throw badInput('a formula is at most 500 characters');
  let tree: jsep.Expression;
  try {
    tree = jsep(text);
  } catch (error) {
    throw badInput(
      `formula ${JSON.stringify(text)} is not arithmetic: ${(error as Error).message}`,
    );
  }
  const check = (node: jsep.Expression): void => {
    switch (node.type) {
      case 'BinaryExpression':
        if (!BINARY.has(node['operator'] as string)) break;
        check(node['left'] as jsep.Expression);
        check(node['right'] as jsep.Expression);
        return;
      case 'UnaryExpression':
        if (node['operator'] !== '-' && node['operator'] !== '+') break;
        check(node['argument'] as jsep.Expression);
        return;
      case 'Literal':
        if (typeof node['value'] === 'number') return;
        break;
      case 'Identifier': {
        const name = node['name'] as string;
        if (name.length === 1 && letters.includes(name)) return;
        throw badInput(
          `formula ${JSON.stringify(text)} names ${name}; the series are ${letters.split('').join(', ')}`,
        );
      }
    }
    throw badInput(
      `formula ${JSON.stringify(text)} is not arithmetic: only numbers, series letters, + - * / and parentheses`,
    );
  };
  check(tree);
  return { text, tree };
}

/** The formula's value where each letter has `values`; null where an operand is null or /0. */
export function evaluateFormula(
  formula: Formula,
  values: Record<string, number | null>,
): number | null {
  const at = (node: jsep.Expression): number | null => {
    switch (node.type) {
      case 'Literal':
        return node['value'] as number;
      case 'Identifier':
        return values[node['name'] as string] ?? null;
      case 'UnaryExpression': {
        const v = at(node['argument'] as jsep.Expression);
        return v === null ? null : node['operator'] === '-' ? -v : v;
      }
      case 'BinaryExpression': {
        const l = at(node['left'] as jsep.Expression);
        const r = at(node['right'] as jsep.Expression);
        if (l === null || r === null) return null;
        switch (node['operator']) {
          case '+':
            return l + r;
          case '-':
            return l - r;
          case '*':
            return l * r;
          default:
            return r === 0 ? null : l / r;
        }
      }
      default:
        return null;
    }
  };
  return at(formula.tree);
}
