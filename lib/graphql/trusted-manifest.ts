// Reads a manifest in Apollo's persisted query manifest format (what
// `generate-persisted-query-manifest` writes) and checks every operation against the API schema
// before it can be published: a partner must never hold an id the gateway could not run.
import { getOperationAST, parse, validate, type GraphQLSchema } from 'graphql';
import { z } from 'zod';
import type { ManifestOperation } from '../meta/partner-clients.repo.ts';

/** Operations one manifest may hold, and the longest body; larger manifests are refused. */
export const MAX_MANIFEST_OPERATIONS = 5_000;
export const MAX_OPERATION_BODY = 64 * 1024;

const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z
    .array(
      z.object({
        id: z
          .string()
          .min(1)
          .max(128)
          .regex(/^[\w.:-]+$/, 'letters, digits and _ . : - only'),
        name: z.string().min(1).max(256),
        type: z.enum(['query', 'mutation', 'subscription']),
        body: z.string().min(1).max(MAX_OPERATION_BODY),
      }),
    )
    .max(MAX_MANIFEST_OPERATIONS),
});

export type ManifestResult =
  { ok: true; operations: ManifestOperation[] } | { ok: false; errors: string[] };

/** Parses manifest text and checks each operation; every problem is named, not only the first. */
export function readManifest(text: string, schema: GraphQLSchema): ManifestResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, errors: ['the manifest is not valid JSON'] };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues
        .slice(0, 20)
        .map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`),
    };
  }
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const op of parsed.data.operations) {
    const where = `operation ${op.id} (${op.name})`;
    if (seen.has(op.id)) errors.push(`${where}: the id is listed twice`);
    seen.add(op.id);
    if (op.type === 'subscription') {
      errors.push(`${where}: subscriptions are not served to partners`);
      continue;
    }
    let document;
    try {
      document = parse(op.body);
    } catch (error) {
      errors.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) {
      errors.push(`${where}: ${invalid.map((e) => e.message).join('; ')}`);
      continue;
    }
    const operation = getOperationAST(document, op.name);
    if (!operation) {
      errors.push(`${where}: the body has no single operation named ${op.name}`);
    } else if ((operation.operation as string) !== op.type) {
      // graphql's OperationTypeNode values are the very words the manifest uses.
      errors.push(`${where}: the body is a ${operation.operation}, not a ${op.type}`);
    }
  }
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, operations: parsed.data.operations };
}
