;; escape (adversarial): tries to open and create files outside its sandbox ("..", absolute
;; paths, a symlink the test plants) and prints "<path> ok" or "<path> refused" per attempt.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; paths at 1024.., each (offset, length) in the table at 512
  (data (i32.const 1024) "../outside.txt")
  (data (i32.const 1040) "/etc/passwd")
  (data (i32.const 1056) "link/passwd")
  (data (i32.const 1072) "sub/../../outside.txt")
  (data (i32.const 1096) "inside.txt")
  (data (i32.const 1112) "link")
  (data (i32.const 512) "\00\04\00\00\0e\00\00\00" "\10\04\00\00\0b\00\00\00" "\20\04\00\00\0b\00\00\00"
                        "\30\04\00\00\15\00\00\00" "\48\04\00\00\0a\00\00\00" "\58\04\00\00\04\00\00\00")
  (data (i32.const 128) " ok\n")
  (data (i32.const 136) " refused\n")
  (func $report (param $ptr i32) (param $len i32) (param $ok i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (i32.store (i32.const 24) (select (i32.const 128) (i32.const 136) (local.get $ok)))
    (i32.store (i32.const 28) (select (i32.const 4) (i32.const 9) (local.get $ok)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 8))))
  (func (export "_start")
    (local $i i32) (local $ptr i32) (local $len i32)
    (loop $next
      (local.set $ptr (i32.load (i32.add (i32.const 512) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $len (i32.load offset=4 (i32.add (i32.const 512) (i32.shl (local.get $i) (i32.const 3)))))
      ;; O_CREAT | rights FD_READ|FD_WRITE
      (call $report (local.get $ptr) (local.get $len)
        (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (local.get $ptr) (local.get $len)
          (i32.const 1) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 40))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 6)))))
)
