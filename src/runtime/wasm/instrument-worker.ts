// Worker thread entry: validates, parses, checks and instruments modules off the agent's event
// loop (instrument-thread.ts is the agent side). Runs from dist/ only (compiled JS).
import { parentPort } from 'node:worker_threads';
import { FailureReason } from '../../domain/index.js';
import { DecodeError } from './byte-reader.js';
import { checkModule } from './check-module.js';
import { capPages, instrumentModule, pageBytes } from './instrument-module.js';
import type { InstrumentReply, InstrumentRequest } from './instrument-thread.js';
import { parseModule, type ParsedModule } from './parse-module.js';
import { lowerThreadPriority } from './thread-priority.js';

const port = parentPort;
if (!port) throw new Error('instrument-worker must run in a worker thread');
lowerThreadPriority();

function describeInvalid(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes);
  } catch (error) {
    return `not a valid Wasm module (${error instanceof Error ? error.message : String(error)})`;
  }
  return 'not a valid Wasm module';
}

/**
 * Worth making resumable: it sleeps (imports `poll_oneoff`), is metered (fuel slices bound how
 * long it holds a shared thread), exports its one memory, and leaves room under its maximum
 * for the page the worker adds for Asyncify's unwind stack (the cap itself is checked by the
 * instrumentation, which reserves that page).
 */
function canResume(module: ParsedModule, request: InstrumentRequest): boolean {
  const memory = module.memories[0];
  return (
    request.isMetered &&
    (request.isHandler === true ||
      module.imports.some(
        (i) => i.module === 'wasi_snapshot_preview1' && i.name === 'poll_oneoff',
      )) &&
    module.memories.length === 1 &&
    memory !== undefined &&
    memory.min + 1 <= Math.min(memory.max ?? Infinity, capPages(request.memMiB)) &&
    module.exports.some((e) => e.name === 'memory')
  );
}

function instrument(request: InstrumentRequest): InstrumentReply {
  const { id, bytes } = request;
  const refuse = (reason: FailureReason, message: string): InstrumentReply => ({
    id,
    ok: false,
    reason,
    message,
  });
  if (!WebAssembly.validate(bytes))
    return refuse(FailureReason.INVALID_MODULE, describeInvalid(bytes));
  let parsed: ParsedModule;
  try {
    parsed = parseModule(bytes);
  } catch (error) {
    if (error instanceof DecodeError) return refuse(FailureReason.INVALID_MODULE, error.message);
    throw error;
  }
  const problem = checkModule(parsed, request.caps);
  if (problem) return refuse(problem.reason, problem.message);
  const options = {
    memMiB: request.memMiB,
    shouldMeter: request.isMetered,
    maxTableElements: request.caps.maxTableElements,
  };
  // Its memory becomes an import: a pooled thread hands each run a zeroed one it kept, instead of
  // the engine reserving a new one per launch that only a full collection gives back.
  const ordinary = instrumentModule(parsed, { ...options, shouldImportMemory: true });
  if (!ordinary.ok) return refuse(ordinary.reason, ordinary.message);
  const resumable = canResume(parsed, request)
    ? instrumentModule(parsed, {
        ...options,
        shouldExportOutOfFuel: true,
        reservedBytes: pageBytes,
        shouldImportMemory: request.isHandler === true,
      })
    : undefined;
  return {
    id,
    ok: true,
    bytes: ordinary.bytes,
    memory: ordinary.importedMemory,
    resumableBytes: resumable?.ok ? resumable.bytes : undefined,
    resumableMemory: resumable?.ok ? resumable.importedMemory : undefined,
  };
}

port.on('message', (request: InstrumentRequest) => {
  let reply: InstrumentReply;
  try {
    reply = instrument(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reply = { id: request.id, ok: false, reason: FailureReason.INVALID_MODULE, message };
  }
  const transfer = reply.ok
    ? [reply.bytes.buffer, ...(reply.resumableBytes ? [reply.resumableBytes.buffer] : [])]
    : [];
  port.postMessage(reply, transfer as ArrayBuffer[]);
});
