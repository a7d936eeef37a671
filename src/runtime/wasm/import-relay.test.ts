// The thread's import relays (import-relay.ts) on a real module: a host call reaches the host of
// the instance whose turn runs and no other, a call outside any turn reaches no host at all, a
// nested turn leaves the outer one's host in place, and linking fails as it would without relays.
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { createImportRelay, type ImportTable } from './import-relay.js';

const wabt = await wabtInit();

/** A module that imports `env.who` and exports `call`, which returns what `who` returns. */
function moduleImporting(name: string): WebAssembly.Module {
  const wat = `(module
    (import "env" "${name}" (func $who (result i32)))
    (func (export "call") (result i32) (call $who)))`;
  const parsed = wabt.parseWat('relay.wat', wat);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return new WebAssembly.Module(buffer);
}

/** A request's host: `who` answers `id` and counts its calls. */
function host(id: number) {
  const calls = { count: 0 };
  const table: ImportTable = { env: { who: () => (calls.count++, id) } };
  return { table, calls };
}

describe('import relays', () => {
  const relay = createImportRelay();
  const module = moduleImporting('who');
  const instanceOf = (table: ImportTable) =>
    new WebAssembly.Instance(module, relay.importsFor(table));
  const callOf = (instance: WebAssembly.Instance) => instance.exports.call as () => number;

  it("sends each turn's host calls to that turn's host only", () => {
    const a = host(1);
    const b = host(2);
    const instanceA = instanceOf(a.table);
    const instanceB = instanceOf(b.table);
    expect(relay.run(a.table, callOf(instanceA))).toBe(1);
    expect(relay.run(b.table, callOf(instanceB))).toBe(2);
    expect([a.calls.count, b.calls.count]).toEqual([1, 1]);
  });

  it('refuses a host call outside any turn, reaching no host', () => {
    const a = host(1);
    const instance = instanceOf(a.table);
    relay.run(a.table, () => undefined);
    expect(() => callOf(instance)()).toThrow('host call env.who outside its instance');
    expect(a.calls.count).toBe(0);
  });

  it("restores the outer turn's host after a nested turn, also when it throws", () => {
    const a = host(1);
    const b = host(2);
    const instanceA = instanceOf(a.table);
    const seen = relay.run(a.table, () => {
      const inner = relay.run(b.table, callOf(instanceOf(b.table)));
      expect(() =>
        relay.run(b.table, () => {
          throw new Error('trap');
        }),
      ).toThrow('trap');
      return [inner, callOf(instanceA)()];
    });
    expect(seen).toEqual([2, 1]);
  });

  it('links exactly as the host it relays to: a missing import fails to link', () => {
    const a = host(1);
    const other = moduleImporting('missing');
    expect(
      () => new WebAssembly.Instance(other, relay.importsFor(a.table) as WebAssembly.Imports),
    ).toThrow(WebAssembly.LinkError);
    expect(() => new WebAssembly.Instance(other, a.table as WebAssembly.Imports)).toThrow(
      WebAssembly.LinkError,
    );
  });

  it('hands every instance the same relay functions: an instance holds none of its host', () => {
    const first = relay.importsFor(host(1).table);
    const second = relay.importsFor(host(2).table);
    expect(first.env?.who).toBe(second.env?.who);
  });
});
