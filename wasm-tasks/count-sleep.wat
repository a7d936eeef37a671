;; count-sleep: sleeps 1 ms, counts to 1,500,000, sleeps again, counts again, returns: a resident
;; task with a fixed amount of work, for fuel exactness under fuel slices (a deterministic count).
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $sleep
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16))))
  (func $count (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (func (export "_start")
    (call $sleep)
    (drop (call $count (i32.const 1500000)))
    (call $sleep)
    (drop (call $count (i32.const 1500000)))))
