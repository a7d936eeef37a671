;; spin-sleeper: imports poll_oneoff (so it runs resident in a shared worker) but spins forever
;; after one short sleep (adversarial: a CPU hog among sleeping neighbours, preempted per fuel slice).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    ;; subscription at 256 (clock, monotonic, 1 ms), event at 320
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
    (loop $forever
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $forever))))
