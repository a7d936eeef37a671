;; long-line: writes one line of 100 MiB ("a" without a newline) to stdout in one fd_write, again
;; and again, forever (issue 11 row 8: lines are cut, and a long one is no flood of pieces).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1601)
  (func (export "_start")
    ;; iovec at 0: 104 857 600 bytes from 65536; nwritten at 16.
    (memory.fill (i32.const 65536) (i32.const 97) (i32.const 104857600))
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 104857600))
    (loop $again
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br $again))))
