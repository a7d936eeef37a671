;; memory-dirty (adversarial): fills its whole memory with 0xA5, then ends as its argument count
;; says: 1 returns, 2 traps, 3 calls proc_exit(7), 4 grows a page, fills it too and returns. The
;; next task on the same thread (memory-snoop, same memory shape) must see none of it.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "a secret the next task must not read")
  (func $fill
    (memory.fill (i32.const 0) (i32.const 0xA5) (i32.mul (memory.size) (i32.const 65536))))
  (func (export "_start") (local $argc i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $argc (i32.load (i32.const 0)))
    (call $fill)
    (if (i32.eq (local.get $argc) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $argc) (i32.const 3)) (then (call $proc_exit (i32.const 7))))
    (if (i32.eq (local.get $argc) (i32.const 4))
      (then (drop (memory.grow (i32.const 1))) (call $fill)))))
