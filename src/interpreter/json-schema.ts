/**
 * JSON Schema for API trigger inputs: checking that a schema is valid when a
 * definition is saved, and compiling it to validate request bodies.
 * Draft 2020-12 by default; a schema that declares draft-07 gets draft-07.
 */
import Ajv2020 from 'ajv/dist/2020';
import Ajv07, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const DRAFT_07 = /json-schema\.org\/draft-07\/schema/;

function makeAjv<T extends Ajv07>(AjvClass: new (opts: object) => T): T {
  const ajv = new AjvClass({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv as unknown as Ajv07);
  // `"x-pii": true` marks a field as personal data: masked for readers without pii:read (src/auth/pii-masking.ts). Must be a boolean.
  (ajv as unknown as Ajv07).addKeyword({ keyword: 'x-pii', schemaType: 'boolean', metaSchema: { type: 'boolean' } });
  return ajv;
}

const ajv2020 = makeAjv(Ajv2020 as unknown as new (opts: object) => Ajv07);
const ajv07 = makeAjv(Ajv07);

function ajvFor(schema: Record<string, unknown>): Ajv07 {
  return typeof schema.$schema === 'string' && DRAFT_07.test(schema.$schema) ? ajv07 : ajv2020;
}

export interface SchemaProblem {
  /** JSON Pointer into the schema or the instance. */
  path: string;
  message: string;
}

/** Problems that make this not a usable JSON Schema; empty when it is fine. */
export function jsonSchemaProblems(schema: Record<string, unknown>): SchemaProblem[] {
  const ajv = ajvFor(schema);
  if (!ajv.validateSchema(schema)) {
    return (ajv.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: `${e.message ?? 'invalid'}${paramsText(e)}` }));
  }
  try {
    compileDetached(schema);
  } catch (err) {
    return [{ path: '/', message: (err as Error).message }];
  }
  return [];
}

/**
 * Compile without leaving the schema registered in the shared Ajv instance:
 * Ajv keeps every compiled schema object (and its $id) for good, so each
 * compile would grow memory, and a second schema with the same $id would
 * be refused as a duplicate.
 */
function compileDetached(schema: Record<string, unknown>): ValidateFunction {
  const ajv = ajvFor(schema);
  try {
    return ajv.compile(schema);
  } finally {
    ajv.removeSchema(schema);
  }
}

function paramsText(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (typeof p.allowedValues !== 'undefined') return ` (${JSON.stringify(p.allowedValues)})`;
  return '';
}

/**
 * Compiled validators by the schema's JSON text, the most recently used
 * first out last: callers read a definition afresh for every request, so
 * keying by object identity would compile (tens of milliseconds) every time.
 */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 256;

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate) {
    compiled.delete(key);
  } else {
    validate = compileDetached(schema);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, validate);
  return validate;
}

/** Validate an input against a schema; every failing path, JSON Pointer style. */
export function validateAgainstSchema(schema: Record<string, unknown>, value: unknown): SchemaProblem[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const p = e.params as Record<string, unknown>;
    let path = e.instancePath || '';
    if (e.keyword === 'required' && typeof p.missingProperty === 'string') path += `/${p.missingProperty}`;
    if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') path += `/${p.additionalProperty}`;
    return { path: path || '/', message: `${e.message ?? 'invalid'}${paramsText(e)}` };
  });
}
