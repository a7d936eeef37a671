// The operator CLI's client: openapi-fetch over the types generated from the OpenAPI document
// (api-paths.ts), with the token as a Bearer credential, and the master's error answers turned
// into one message an operator can act on.
import createClient from 'openapi-fetch';
import type { paths } from './api-paths.js';
import type { OperatorSettings } from './settings.js';

export type PacerClient = ReturnType<typeof createClient<paths>>;

/** A refusal from the master, with the message to print and the exit status to use. */
export class ApiRefusal extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function createPacerClient(settings: OperatorSettings): PacerClient {
  const { dispatcher } = settings;
  return createClient<paths>({
    baseUrl: settings.url,
    headers: settings.token ? { authorization: `Bearer ${settings.token}` } : {},
    // With --ca, every request verifies the master's certificate against it.
    ...(dispatcher ? { fetch: (request: Request) => fetch(request, { dispatcher }) } : {}),
  });
}

interface ErrorBody {
  message?: string;
  details?: { path?: string; errors?: string[] }[];
}

/** What to tell the operator for an error answer. */
export function refusalMessage(status: number, body: unknown): string {
  const { message, details } = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  const said = message ?? (typeof body === 'string' && body ? body : `HTTP ${status}`);
  switch (status) {
    case 401:
      return `${said}: no or wrong credentials; set PACER_TOKEN, --token or the config file's "token"`;
    case 403:
      return `${said}: your token's grants do not allow this`;
    case 409:
      return `${said} (retry when it ends, or pass --force)`;
    case 422:
    case 400: {
      const lines = (details ?? []).map(
        (d) => `  ${d.path ?? '/'}: ${(d.errors ?? []).join('; ')}`,
      );
      return [said, ...lines].join('\n');
    }
    default:
      return said;
  }
}

/** The data of an openapi-fetch answer, or an ApiRefusal for an error answer. */
export function expectData<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  throw new ApiRefusal(
    refusalMessage(answer.response.status, answer.error),
    answer.response.status,
  );
}
