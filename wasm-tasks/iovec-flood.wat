;; iovec-flood (adversarial, issue 11 row 6): a resident task (it imports poll_oneoff) makes one
;; fd_write of 8,388,608 one-byte iovecs, each a newline, and exits with the errno it got.
;; Before the host bounded iovec counts, this exhausted its shared thread's heap.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 64 MiB of iovecs from 65536, a page for the resumable rewrite's unwind stack
  (memory (export "memory") 1026)
  (data (i32.const 0) "\n")
  (func (export "_start")
    (local $i i32)
    ;; a 1 ms sleep first, so the task is on its thread beside its neighbour
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 1000000))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 8388608)))
        ;; iovec i: { buf = 0 (the newline), len = 1 }
        (i32.store offset=4 (i32.add (i32.const 65536) (i32.shl (local.get $i) (i32.const 3)))
          (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $proc_exit
      (call $fd_write (i32.const 1) (i32.const 65536) (i32.const 8388608) (i32.const 16))))
)
