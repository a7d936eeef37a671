// The checked-in form of the document: pretty JSON with a final newline.
import { buildOpenApiDocument } from './document.js';

/** The text of openapi/openapi.json for `version`. */
export function renderOpenApiDocument(options: { version: string }): string {
  return `${JSON.stringify(buildOpenApiDocument(options), null, 2)}\n`;
}
