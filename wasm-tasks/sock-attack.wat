;; Socket-mode attacks from the guest side: accepts one connection on the preopened listener
;; (fd 3, blocking: resident, it unwinds while it waits), then tries a recv into a 4 GiB
;; buffer (EFAULT), a recv into a huge but valid one (only what arrived), a send on an fd that
;; is not its own, a recv on stdout, an accept on a connection, a bad shutdown and a read-side
;; shutdown twice. It sends each errno back as one byte (and the bytes received), then shuts
;; its write side and exits.
(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (local $conn i32)
    ;; results at 2048.., one byte each
    (i32.store8 (i32.const 2048) (call $accept (i32.const 3) (i32.const 0) (i32.const 0)))
    (local.set $conn (i32.load (i32.const 0)))
    ;; 1. a 4 GiB - 256 buffer: outside memory
    (i32.store (i32.const 512) (i32.const 1024))
    (i32.store (i32.const 516) (i32.const 0xFFFFFF00))
    (i32.store8 (i32.const 2049)
      (call $recv (local.get $conn) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16) (i32.const 20)))
    ;; 2. a 60,000-byte buffer: blocks until the client's bytes come, takes only those
    (i32.store (i32.const 516) (i32.const 60000))
    (i32.store8 (i32.const 2050)
      (call $recv (local.get $conn) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16) (i32.const 20)))
    (i32.store8 (i32.const 2051) (i32.load (i32.const 16)))
    ;; 3. send on fd 99 (not open here, whatever other tasks hold)
    (i32.store8 (i32.const 2052)
      (call $send (i32.const 99) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16)))
    ;; 4. recv on stdout
    (i32.store8 (i32.const 2053)
      (call $recv (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16) (i32.const 20)))
    ;; 5. accept on a connection
    (i32.store8 (i32.const 2054) (call $accept (local.get $conn) (i32.const 0) (i32.const 0)))
    ;; 6. shutdown with bad flags, 7-8. read side twice
    (i32.store8 (i32.const 2055) (call $shutdown (local.get $conn) (i32.const 9)))
    (i32.store8 (i32.const 2056) (call $shutdown (local.get $conn) (i32.const 1)))
    (i32.store8 (i32.const 2057) (call $shutdown (local.get $conn) (i32.const 1)))
    ;; send the 10 result bytes
    (i32.store (i32.const 512) (i32.const 2048))
    (i32.store (i32.const 516) (i32.const 10))
    (drop (call $send (local.get $conn) (i32.const 512) (i32.const 1) (i32.const 0) (i32.const 16)))
    (drop (call $shutdown (local.get $conn) (i32.const 2)))
    (drop (call $shutdown (local.get $conn) (i32.const 2)))
  )
)
