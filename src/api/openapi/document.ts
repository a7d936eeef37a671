// Builds the OpenAPI 3.1 document (openapi3-ts) from the zod registries and the routes'
// declarations (operations.ts). Deterministic: the checked-in openapi/openapi.json must equal
// what this returns.
import { OpenApiBuilder } from 'openapi3-ts/oas31';
import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  ResponseObject,
  SchemaObject,
} from 'openapi3-ts/oas31';
import { z } from 'zod';
// Imported for their registrations in the registries.
import '../v2/wire/app-schema.js';
import '../v2/wire/group-schema.js';
import '../v2/wire/response-schemas.js';
import '../v2/wire/secret-schemas.js';
import '../v2/wire/task-schemas.js';
import '../v2/wire/acl-schemas.js';
import { OPERATIONS } from '../operations.js';
import type { Answer, PathParam, RouteSpec } from '../route.js';
import { requestSchemas, responseSchemas } from './registry.js';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function componentSchemas(registry: typeof requestSchemas, io: 'input' | 'output') {
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  });
  const out: Record<string, SchemaObject> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

function toResponse(answer: Answer): ResponseObject {
  const response: ResponseObject = { description: answer.description };
  const content: NonNullable<ResponseObject['content']> = {};
  if (answer.schema) content['application/json'] = { schema: ref(answer.schema) };
  if (answer.media) content[answer.media.type] = { schema: answer.media.schema };
  if (Object.keys(content).length > 0) response.content = content;
  if (answer.isDeployment) {
    response.headers = {
      'Marathon-Deployment-Id': { description: 'Id of the deployment started.', schema: { type: 'string' } },
    };
  }
  return response;
}

/**
 * Operations answered without credentials when authentication is on
 * (api/auth/authenticate-request.ts `isOpenPath`; test/api-auth.test.ts checks that the two
 * agree), as `method path`.
 */
export const OPEN_OPERATIONS = new Set(
  OPERATIONS.filter((route) => route.isOpen).map((route) => `${route.method} ${route.path}`),
);

/** A path parameter as the document shows it. */
function pathParameter(name: string, param: PathParam): ParameterObject {
  return {
    name,
    in: 'path',
    required: true,
    ...(param.description ? { description: param.description } : {}),
    schema: { type: 'string', ...(param.pattern ? { pattern: param.pattern } : {}) },
  };
}

/** Credentials as Marathon's clients send them; any one of them. */
const SECURITY_SCHEMES = {
  basic: { type: 'http', scheme: 'basic', description: 'Token name and secret.' },
  bearer: { type: 'http', scheme: 'bearer', description: 'The token secret.' },
  dcosToken: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'DC/OS style: `token=<secret>`.',
  },
} as const;

const UNAUTHENTICATED = toResponse({
  description:
    'Authentication is on and the request has no valid credentials (`WWW-Authenticate: Basic realm="pacer"`).',
  schema: 'Error',
});
const FORBIDDEN = toResponse({
  description: 'The caller’s grants do not allow this action on this id.',
  schema: 'Error',
});

function toOperation(operation: RouteSpec): OperationObject {
  const responses: Record<string, ResponseObject> = {};
  for (const [status, answer] of Object.entries(operation.answers)) responses[status] = toResponse(answer);
  const isOpen = operation.isOpen === true;
  if (!isOpen) {
    responses['401'] = UNAUTHENTICATED;
    responses['403'] = FORBIDDEN;
  }
  responses.default = toResponse({ description: 'Any other error, in Marathon’s shape.', schema: 'Error' });
  const out: OperationObject = {
    operationId: operation.operationId,
    summary: operation.summary,
    tags: [operation.tag],
    responses,
  };
  if (isOpen) out.security = [{}];
  if (operation.description) out.description = operation.description;
  const parameters = [
    ...Object.entries(operation.params ?? {}).map(([name, param]) => pathParameter(name, param)),
    ...(operation.query ?? []),
  ];
  if (parameters.length > 0) out.parameters = parameters;
  const body = operation.body;
  if (body && 'schema' in body) {
    const schema = body.isArray ? { type: 'array' as const, items: ref(body.schema) } : ref(body.schema);
    out.requestBody = { required: true, content: { 'application/json': { schema } } };
  } else if (body) {
    out.requestBody = {
      required: true,
      content: { [body.media]: { schema: { type: 'string', contentMediaType: body.media } } },
    };
  }
  return out;
}

/** The OpenAPI document of the API. `version` is Pacer's version. */
export function buildOpenApiDocument(options: { version: string }): OpenAPIObject {
  const builder = OpenApiBuilder.create()
    .addOpenApiVersion('3.1.0')
    .addInfo({
      title: 'Pacer',
      version: options.version,
      description:
        'A Marathon-compatible control plane for WebAssembly tasks: Marathon REST API v2, plus ' +
        "Pacer's own `/v2/artifacts`, `/v2/agents`, `/v2/tasks/{taskId}/logs` and `/v2/acl/tokens`. " +
        'With authentication on, every operation but those marked otherwise needs credentials.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    });
  const schemas = {
    ...componentSchemas(requestSchemas, 'input'),
    ...componentSchemas(responseSchemas, 'output'),
  };
  for (const id of Object.keys(schemas).sort()) builder.addSchema(id, schemas[id] as SchemaObject);
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) builder.addSecurityScheme(name, scheme);
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const operation of OPERATIONS) {
    (paths[operation.path] ??= {})[operation.method] = toOperation(operation);
  }
  for (const [path, item] of Object.entries(paths)) builder.addPath(path, item);
  for (const tag of [...new Set(OPERATIONS.map((o) => o.tag))]) builder.addTag({ name: tag });
  const spec = builder.getSpec();
  spec.security = Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] }));
  return spec;
}
