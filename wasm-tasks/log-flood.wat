;; log-flood: writes 4 000 000 newlines to stdout in one fd_write, again and again, forever
;; (issue 11 row 8: one write of newlines must not become 4 M bus entries or stall the agent).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 64)
  (func (export "_start")
    ;; iovec at 0: 4 000 000 bytes from 65536; nwritten at 16.
    (memory.fill (i32.const 65536) (i32.const 10) (i32.const 4000000))
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 4000000))
    (loop $again
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br $again))))
