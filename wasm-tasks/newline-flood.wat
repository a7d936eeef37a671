;; newline-flood (adversarial): writes 64 KiB of newlines to stdout per fd_write, forever: every
;; call is 65,536 empty log lines for the agent to carry (issue 11, rows 6 and 8).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    ;; the buffer at 65536, its iovec at 16, nwritten at 32
    (memory.fill (i32.const 65536) (i32.const 10) (i32.const 65536))
    (i32.store (i32.const 16) (i32.const 65536))
    (i32.store (i32.const 20) (i32.const 65536))
    (loop $forever
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32)))
      (br $forever))))
