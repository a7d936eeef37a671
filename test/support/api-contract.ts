// Contract check: every response a test receives is compared with the OpenAPI document (the
// operation's documented status and JSON schema), with Ajv as an independent validator.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { OpenAPIObject, OperationObject, ResponseObject } from 'openapi3-ts/oas31';
import { buildOpenApiDocument } from '../../src/api/openapi/document.js';

interface Template {
  method: string;
  path: string;
  pattern: RegExp;
  operation: OperationObject;
}

function compile(document: OpenAPIObject) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'openapi.json', components: document.components });
  const validators = new Map<string, ValidateFunction>();
  const validatorOf = (ref: string) => {
    let validate = validators.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json${ref}` });
      validators.set(ref, validate);
    }
    return validate;
  };
  const templates: Template[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = (item as Record<string, OperationObject | undefined>)[method];
      if (!operation) continue;
      const source = path
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{(id|groupId)\}/, '.+')
        .replace(/\{[^}]+\}/g, '[^/]+');
      templates.push({
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${source}$`),
        operation,
      });
    }
  }
  // More literal text first: `/v2/apps/{id}/tasks` and `/v2/apps/*` before the greedy
  // `/v2/apps/{id}`, as the server mounts sub-resources first.
  const literal = (t: Template) => t.path.replace(/\{[^}]+\}/g, '').length;
  templates.sort((a, b) => literal(b) - literal(a));
  return { templates, validatorOf };
}

let compiled: ReturnType<typeof compile> | undefined;

/** Problems of one response against the document; empty when it conforms. */
export async function contractProblems(options: {
  method: string;
  url: string;
  response: Response;
}): Promise<string[]> {
  compiled ??= compile(buildOpenApiDocument({ version: '0.0.0' }));
  const { method, response } = options;
  const path = new URL(options.url, 'http://x').pathname
    .replace(/\/{2,}/g, '/')
    .replace(/(.)\/$/, '$1');
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) return [];
  const template = compiled.templates.find((t) => t.method === method && t.pattern.test(path));
  const responses = (template?.operation.responses ?? {}) as Record<string, ResponseObject>;
  const documented = template
    ? (responses[String(response.status)] ?? responses.default)
    : undefined;
  const where = `${method} ${path} → ${response.status}`;
  let ref: string | undefined;
  if (documented) {
    if (!responses[String(response.status)] && response.status < 400) {
      return [`${where}: status not documented`];
    }
    const schema = documented.content?.['application/json']?.schema as
      { $ref?: string } | undefined;
    ref = schema?.$ref;
    if (!documented.content)
      return (await response.clone().text()) === '' ? [] : [`${where}: undocumented body`];
    if (!ref) return [];
  } else if (response.status >= 400) {
    ref = '#/components/schemas/Error';
  } else {
    return [`${where}: no documented operation`];
  }
  if (!type.startsWith('application/json'))
    return [`${where}: content-type ${type}, expected JSON`];
  const body: unknown = await response.clone().json();
  const validate = compiled.validatorOf(ref);
  if (validate(body)) return [];
  return [`${where}: ${JSON.stringify(validate.errors?.slice(0, 5))}`];
}
