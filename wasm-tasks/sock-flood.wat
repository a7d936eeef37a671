;; Socket mode: accepts one connection and sends 64 KiB chunks forever (blocking sends), printing
;; nothing. Against a peer that never reads, it must stall with a bounded amount in flight, not
;; grow the agent's buffers; against one that reads, it streams.
(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 3)
  (func (export "_start")
    (local $conn i32)
    (drop (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))
    (local.set $conn (i32.load (i32.const 0)))
    (i32.store (i32.const 512) (i32.const 65536))
    (i32.store (i32.const 516) (i32.const 65536))
    (loop $again
      (br_if $again
        (i32.eqz (call $send (local.get $conn) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16)))))
  )
)
