import { buildSchema, graphqlSync, type GraphQLFormattedError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskFormattedError } from './error-mask.ts';

const schema = buildSchema(`
  input Grant { accessToken: String!, platform: Kind! }
  enum Kind { X TIKTOK }
  type Query { connect(input: Grant!): Boolean }
`);

/** What graphql-js itself says about a variable it cannot coerce. */
function coercionError(input: unknown): GraphQLFormattedError {
  const result = graphqlSync({
    schema,
    source: 'query($input: Grant!) { connect(input: $input) }',
    variableValues: { input },
  });
  const [error] = result.errors ?? [];
  return { message: error!.message, extensions: { code: 'BAD_USER_INPUT' } };
}

describe('error mask', () => {
  it('keeps why a variable was refused but not the value graphql-js echoes', () => {
    const secret = 'EAAB-secret-token-that-must-not-leak';
    // graphql-js echoes the whole input for an unknown field.
    expect(coercionError({ accessToken: secret, platform: 'X', extra: 1 }).message).toContain(
      secret,
    );
    for (const input of [
      { accessToken: secret, platform: 'X', extra: 1 },
      { accessToken: secret, platform: 'MYSPACE' },
    ]) {
      const raw = coercionError(input);
      const masked = maskFormattedError(raw, undefined, () => {});
      expect(masked.message).not.toContain(secret);
      expect(masked.message).toMatch(/^Variable "\$input" got invalid value \(not shown\)/);
      expect(masked.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const unknownField = maskFormattedError(
      coercionError({ accessToken: secret, platform: 'X', extra: 1 }),
      undefined,
      () => {},
    );
    expect(unknownField.message).toContain('Field "extra" is not defined by type "Grant"');
    const badEnum = maskFormattedError(
      coercionError({ accessToken: secret, platform: 'MYSPACE' }),
      undefined,
      () => {},
    );
    expect(badEnum.message).toContain('at "input.platform"; Value "MYSPACE" does not exist');
  });
});
