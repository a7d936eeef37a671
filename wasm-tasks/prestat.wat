;; prestat: what every wasi-libc program does at start — asks fd 3 for its preopen
;; (fd_prestat_get, fd_prestat_dir_name) — then prints the preopen's name and exits 0.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name"
    (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; prestat at 16 (tag, name length), name at 64, iovec at 32, "\n" at 200
  (data (i32.const 200) "\n")
  (func (export "_start")
    (if (call $fd_prestat_get (i32.const 3) (i32.const 16)) (then (unreachable)))
    (if (i32.gt_u (i32.load (i32.const 20)) (i32.const 100)) (then (unreachable)))
    (if (call $fd_prestat_dir_name (i32.const 3) (i32.const 64) (i32.load (i32.const 20)))
      (then (unreachable)))
    (i32.store (i32.const 32) (i32.const 64))
    (i32.store (i32.const 36) (i32.load (i32.const 20)))
    (i32.store (i32.const 40) (i32.const 200))
    (i32.store (i32.const 44) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 2) (i32.const 48)))))
