;; table-grow-bomb: starts with an empty table and grows it by 100,000 elements until table.grow
;; returns -1 (adversarial: growth must stay under mem, 8 bytes an element). Exits with code 1
;; once refused, so the driver reports MEMORY_LIMIT (a refused grow, then a non-zero exit).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func (export "_start")
    (loop $grow
      (br_if $grow (i32.ne (table.grow $t (ref.null func) (i32.const 100000)) (i32.const -1))))
    (call $proc_exit (i32.const 1))))
