;; memory-dirty-segments (adversarial): its first data segment lands, its second is out of bounds,
;; so instantiation traps after writing part of the memory it was given.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "a secret written before the trap")
  (data (i32.const 131070) "past the end")
  (func (export "_start")))
