;; div-zero (adversarial): an integer division by zero, which traps.
(module
  (memory (export "memory") 1)
  (global $zero (mut i32) (i32.const 0))
  (func (export "_start")
    (drop (i32.div_s (i32.const 1) (global.get $zero)))))
