;; memory-snoop: reads its whole memory; exits 2 if it is not the 2 pages it declares, 1 if any byte
;; is not zero (a previous task's bytes), 0 otherwise.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (func (export "_start") (local $at i32)
    (if (i32.ne (memory.size) (i32.const 2)) (then (call $proc_exit (i32.const 2))))
    (loop $next
      (if (i64.ne (i64.load (local.get $at)) (i64.const 0)) (then (call $proc_exit (i32.const 1))))
      (local.set $at (i32.add (local.get $at) (i32.const 8)))
      (br_if $next (i32.lt_u (local.get $at) (i32.const 131072))))))
