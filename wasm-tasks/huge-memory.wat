;; huge-memory (adversarial): declares a 2 GiB minimum memory; refused before it runs.
(module
  (memory (export "memory") 32768)
  (func (export "_start")))
