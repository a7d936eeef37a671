;; pwrite-far (adversarial, issue 11 row 9): creates a file and writes one byte at offset -1
;; (u64 2^64-1), then at 2^62, and exits with 100 × the first errno + the second. Before the
;; host validated offsets, the first wrote at the file position and the second grew the file.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "far.bin")
  (data (i32.const 80) "x")
  (func (export "_start")
    (local $fd i32)
    ;; O_CREAT, rights FD_READ | FD_WRITE
    (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 7)
      (i32.const 1) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 8)))
    (local.set $fd (i32.load (i32.const 8)))
    ;; one iovec at 16: { buf = 80, len = 1 }
    (i32.store (i32.const 16) (i32.const 80))
    (i32.store (i32.const 20) (i32.const 1))
    (call $proc_exit
      (i32.add
        (i32.mul (i32.const 100)
          (call $fd_pwrite (local.get $fd) (i32.const 16) (i32.const 1) (i64.const -1) (i32.const 24)))
        (call $fd_pwrite (local.get $fd) (i32.const 16) (i32.const 1) (i64.const 0x4000000000000000)
          (i32.const 24)))))
)
