;; service: a long-running task: prints "tick <n>" on stdout, sleeps (poll_oneoff clock) and
;; repeats forever. The sleep is argv[1] milliseconds when given, else 1000.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 64: "tick ", 80..99 digits (written backwards), 100: "\n"; subscription at 256, event at 320,
  ;; iovecs at 128; argv ptrs at 1024, argv buf at 2048.
  (data (i32.const 64) "tick ")
  (data (i32.const 100) "\n")
  (func $parse_ms (result i64)
    (local $p i32) (local $c i32) (local $ms i64)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.or (i32.lt_u (i32.load (i32.const 16)) (i32.const 2))
                (i32.or (i32.gt_u (i32.load (i32.const 16)) (i32.const 200))
                        (i32.gt_u (i32.load (i32.const 20)) (i32.const 60000))))
      (then (return (i64.const 1000))))
    (drop (call $args_get (i32.const 1024) (i32.const 2048)))
    (local.set $p (i32.load (i32.const 1028)))
    (block $done
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 0)))
        (br_if $done (i32.gt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)))
        (local.set $ms (i64.add (i64.mul (local.get $ms) (i64.const 10))
                                (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $ms))
  (func (export "_start")
    (local $n i32) (local $ms i64) (local $pos i32) (local $v i32)
    (local.set $ms (call $parse_ms))
    ;; subscription: userdata 0, tag 0 (clock), clock id 1 (monotonic), timeout ns, precision 0, flags 0
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.mul (local.get $ms) (i64.const 1000000)))
    (loop $forever
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      ;; decimal digits of n, backwards from 100
      (local.set $pos (i32.const 100))
      (local.set $v (local.get $n))
      (loop $digits
        (local.set $pos (i32.sub (local.get $pos) (i32.const 1)))
        (i32.store8 (local.get $pos) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $digits (local.get $v)))
      (i32.store (i32.const 128) (i32.const 64))
      (i32.store (i32.const 132) (i32.const 5))
      (i32.store (i32.const 136) (local.get $pos))
      (i32.store (i32.const 140) (i32.sub (i32.const 101) (local.get $pos)))
      (drop (call $fd_write (i32.const 1) (i32.const 128) (i32.const 2) (i32.const 16)))
      (drop (call $poll_oneoff (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
      (br $forever))))
