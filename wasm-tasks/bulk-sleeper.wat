;; bulk-sleeper: imports poll_oneoff (so it runs resident on a shared thread), sleeps 1 ms, then
;; fills and copies its whole memory (16 MiB) forever (adversarial: bulk memory instructions were
;; 1 fuel whatever their length, so a fuel slice could last minutes and a kill waited for it).
;; It exits with code 3 unless it runs resident: the runtime then adds the page for its unwind
;; stack (256 pages, not the declared 255), so a test of shared threads cannot pass without one.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 255 256)
  (func (export "_start")
    (local $half i32)
    (if (i32.ne (memory.size) (i32.const 256)) (then (call $proc_exit (i32.const 3))))
    ;; subscription at 256 (clock, monotonic, 1 ms), event at 320
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
    (local.set $half (i32.shr_u (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)))
    (loop $forever
      (memory.fill (i32.const 0) (i32.const 0xab) (i32.mul (local.get $half) (i32.const 2)))
      (memory.copy (local.get $half) (i32.const 0) (local.get $half))
      (br $forever))))
