;; memory-bomb (adversarial): grows linear memory 16 pages at a time until memory.grow fails,
;; then traps, as a C program does when malloc returns NULL.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))
