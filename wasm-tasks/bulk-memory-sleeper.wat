;; bulk-memory-sleeper (adversarial): imports poll_oneoff (so it runs resident on a shared thread),
;; sleeps 1 ms, then loops forever on memory.fill and memory.copy of 1 MiB each: few instructions,
;; much work, so fuel slices counted per instruction hold the thread for minutes (issue 11, row 5).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 33)
  (func (export "_start")
    (local $i i32)
    ;; subscription at 256 (clock, monotonic, 1 ms), event at 320
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
    (loop $forever
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (memory.fill (i32.const 65536) (local.get $i) (i32.const 1048576))
      (memory.copy (i32.const 1114112) (i32.const 65536) (i32.const 1048576))
      (br $forever))))
