;; A WAGI handler that shows what one request leaves for the next, then leaves some: it answers
;; "seen XYZ" with X a byte of its data segment (A when fresh), Y a byte past its data (0 when
;; fresh) and Z a mutable global (0 when fresh), then writes B, 1 and 1 over them. Every request
;; must see a fresh instance in fresh memory: "seen A00". Handler mode pools zeroed memories
;; (memory-pool.ts); this module is how a test catches one given back unzeroed.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 1024) "A")
  ;; 26 bytes of headers, then "seen " (5), X at 2079, Y at 2080, Z at 2081, newline: 35 bytes.
  (data (i32.const 2048) "Content-Type: text/plain\n\nseen XYZ\n")
  (func (export "_start")
    (i32.store8 (i32.const 2079) (i32.load8_u (i32.const 1024)))
    (i32.store8 (i32.const 2080) (i32.add (i32.const 48) (i32.load8_u (i32.const 60000))))
    (i32.store8 (i32.const 2081) (i32.add (i32.const 48) (global.get $count)))
    (i32.store (i32.const 0) (i32.const 2048))
    (i32.store (i32.const 4) (i32.const 35))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store8 (i32.const 1024) (i32.const 66))
    (i32.store8 (i32.const 60000) (i32.const 1))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))))
