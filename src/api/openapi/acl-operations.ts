// The tokens API (`/v2/acl/tokens`, Pacer's own, admin only) as operations of the document.
import type { Operation } from './operations.js';

const error = (description: string) => ({ description, schema: 'Error' });

/** Create, list and revoke API tokens. */
export const ACL_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/v2/acl/tokens',
    operationId: 'createToken',
    summary: 'Create an API token with grants (admin); the answer shows its secret once',
    tag: 'acl',
    body: { schema: 'TokenRequest' },
    answers: {
      '201': { description: 'Created; `secret` is not shown again.', schema: 'CreatedToken' },
      '400': error('Malformed JSON or wrong JSON types.'),
      '409': error('A token of that name exists.'),
      '422': error('Invalid name or grants (`details[].path` in Marathon syntax).'),
    },
  },
  {
    method: 'get',
    path: '/v2/acl/tokens',
    operationId: 'listTokens',
    summary: 'API tokens and their grants, never their secrets (admin)',
    tag: 'acl',
    answers: { '200': { description: 'The tokens.', schema: 'TokenList' } },
  },
  {
    method: 'delete',
    path: '/v2/acl/tokens/{name}',
    operationId: 'revokeToken',
    summary: 'Revoke a token at once, closing its open event streams (admin)',
    tag: 'acl',
    parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
    answers: {
      '200': { description: 'Revoked.', schema: 'RevokedToken' },
      '404': error('No such token.'),
    },
  },
];
