// The slice of the WebAssembly JS API the runtime uses: @types/node 20 does not declare it
// and the project builds without the DOM lib. COMPAT: drop when @types/node ships these types.
declare global {
  namespace WebAssembly {
    type ImportValue = ExportValue | number | bigint;
    type Imports = Record<string, Record<string, ImportValue | ((...args: never[]) => unknown)>>;
    type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;
    type Exports = Record<string, ExportValue>;

    class Module {
      constructor(bytes: BufferSource);
      static exports(module: Module): { name: string; kind: string }[];
      static imports(module: Module): { module: string; name: string; kind: string }[];
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    class Table {
      readonly length: number;
    }
    class Global {
      constructor(descriptor: { value: string; mutable?: boolean }, value?: unknown);
      value: unknown;
    }
    class CompileError extends Error {}
    class LinkError extends Error {}
    class RuntimeError extends Error {}
    function validate(bytes: BufferSource): boolean;
    function compile(bytes: BufferSource): Promise<Module>;
    function instantiate(module: Module, imports?: Imports): Promise<Instance>;
  }
}

export {};
